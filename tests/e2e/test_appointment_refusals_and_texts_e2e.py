"""Appointments as a person meets them, through the real bot polling the
emulator (English UI): a referral used by someone else meanwhile, English specialty names and
"Room", the old time on the rescheduling screens, the time screen's header and Cancel, and the
visit card's way back to the list."""

from __future__ import annotations

import pytest
from babel.dates import format_datetime

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.offline import OfflineStack
from bot.services.appointments.clock import MOSCOW, msk_date
from tests.e2e.booking import BOOK, book_a_visit, tap, tap_day, tap_on, to_calendar, with_button
from tests.e2e.helpers import last_text
from tests.e2e.people import link_own_card, link_relative, new_user, persona

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]

VISITS = "🗓 My appointments"


@pytest.fixture(autouse=True)
def bot_reads_the_sandbox_clock(stack: OfflineStack, sandbox_clock: FrozenClock) -> None:
    stack.app.dispatcher["clock"] = sandbox_clock


async def test_a_referral_used_by_another_relative_is_told_and_the_booking_goes_on(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    galina = await persona(sandbox, "elderly_mother")
    alexey = await new_user(stack, 7301, "Alexey", "+79000007301")
    viktor = await new_user(stack, 7302, "Viktor", "+79000007302")
    for user in (alexey, viktor):
        sandbox_clock.advance(seconds=61)  # one code a minute per card
        await link_relative(user, sandbox, galina, "Mum", "Appointments only")

    await alexey.press(BOOK)
    first = alexey.describe_buttons()
    assert "Referral: Cardiologist" in first or "Referral: Endocrinologist" in first
    assert "General practitioner" in first  # терапевт (issue 14, 11e)
    assert "Кардиолог" not in first and "Терапевт" not in first
    for user in (alexey, viktor):
        await to_calendar(user, sandbox, sandbox_clock, "ap:r:")
        await tap_day(user)
        await tap(user, "at:")
    confirm = alexey.last_message.text or ""
    assert "Specialty: Cardiologist" in confirm or "Specialty: Endocrinologist" in confirm
    assert "Cabinet" not in confirm

    await tap(viktor, "ab:ok:")
    assert any("Appointment booked: Mum" in (m.text or "") for m in viktor.messages[-3:])

    answer = await tap(alexey, "ab:ok:")
    assert answer.show_alert and answer.text is not None
    assert "This referral has already been used (or closed)" in answer.text
    again = alexey.last_message
    assert "This referral has already been used" in (again.text or "")
    assert "Patient: Mum" in (again.text or "")
    _, specialties = with_button(alexey, "ap:s:")
    assert specialties  # the way on: another specialty (or referral)
    assert "not found" not in (again.text or "").lower()


async def test_rescheduling_shows_the_old_time_and_the_card_leads_back(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 7303, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    visit_id = await book_a_visit(user, sandbox, sandbox_clock, oleg.policy)
    [visit] = [
        v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id == visit_id
    ]
    old = format_datetime(visit.starts_at, "d MMM, HH:mm", tzinfo=MOSCOW, locale="en")
    if msk_date(visit.starts_at).year != msk_date(sandbox_clock()).year:
        old = format_datetime(visit.starts_at, "d MMM y, HH:mm", tzinfo=MOSCOW, locale="en")

    await user.press(VISITS)
    await tap_on(user, "av:v:", visit_id)
    card = user.last_message
    assert "Status: booked" in (card.text or "")
    assert card.button("⬅️ Back") is not None
    await user.press("⬅️ Back")
    assert "My appointments" in (user.last_message.text or "")

    await tap_on(user, "av:v:", visit_id)
    await tap(user, "av:m:")
    assert f"Moving the appointment of {old}." in last_text(user)
    await tap_day(user)
    times = user.last_message
    for part in ("Patient:", "Doctor:", "Specialty:", f"Moving the appointment of {old}."):
        assert part in (times.text or ""), part
    assert times.button("✖ Cancel") is not None
    await tap(user, "at:")
    assert f"Move: from {old} to " in last_text(user)
    await tap(user, "ab:ok:")
    done = next(m for m in reversed(user.messages) if "The appointment is moved" in (m.text or ""))
    assert "Was:" in (done.text or "")
