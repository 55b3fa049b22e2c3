"""Issue 14, booking: /cancel sees an open booking (5), "Book again" after a clinic
cancellation opens the same doctor's calendar (11d), терапевт is a "General practitioner" in
English (11e), short doctor buttons with the nearest free time, the district doctor first (9)."""

from __future__ import annotations

import pytest

from bot.flows import booking as flow
from bot.flows import router
from bot.flows.appointment_texts import SPECIALTY_NAMES, short_name, time_label
from bot.flows.screens import Placement
from bot.services.appointments.booking import DRAFT_KEY
from bot.services.notifications.render import Action, Button
from keyboards.notifications import button_action
from tests.sandbox_fixtures import free_times
from tests.unit.booking_flow_support import Talk, is_stale, last_shown, talk
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings", "talk"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


async def book_one(talk: Talk) -> tuple[str, str]:
    """Books the first free time through the flow: (doctor id, appointment id)."""
    talk.screen = (await flow.book_start(talk.ctx, talk.memory))[0]
    doctor_id = await talk.to_calendar()
    await talk.tap("cal:d:")
    await talk.tap("at:")
    [ok] = talk.on_screen("ab:ok:")
    await talk.press(ok)
    draft = (await talk.memory.get_data())[DRAFT_KEY]
    return doctor_id, draft["done"]


async def test_cancel_mid_booking_cancels_and_old_buttons_are_stale(talk: Talk) -> None:
    talk.screen = (await flow.book_start(talk.ctx, talk.memory))[0]
    await talk.to_calendar()
    calendar = talk.screen
    assert await talk.memory.get_state() is None  # the draft is in the data only
    [shown] = await router.cancel(talk.ctx, talk.memory)
    assert shown.text.startswith("Cancelled.")
    talk.screen = calendar
    assert is_stale(await talk.tap("cal:d:"))


async def test_cancel_with_nothing_open_says_so(talk: Talk) -> None:
    [shown] = await router.cancel(talk.ctx, talk.memory)
    assert shown.text.startswith("Nothing to cancel.")


def test_therapist_is_a_general_practitioner_in_english() -> None:
    assert SPECIALTY_NAMES["therapist"] == "General practitioner"
    assert SPECIALTY_NAMES["gp"] != SPECIALTY_NAMES["therapist"]


async def test_book_again_after_a_clinic_cancellation_opens_the_same_doctor(
    talk: Talk,
) -> None:
    doctor_id, visit_id = await book_one(talk)
    person_id = (await talk.memory.get_data())[DRAFT_KEY]["person_id"]
    await talk.backend.clinic_cancel(visit_id)
    action = button_action(Button("Book again", Action.BOOK, person_id, visit_id))
    screens = await talk.press(action)
    shown = last_shown(screens)
    assert shown.placement is Placement.NEW and shown.protect
    assert "Choose a day" in shown.text or "No free times" in shown.text
    visit = await talk.backend.get_appointment(*(await _grant(talk, person_id)), visit_id)
    assert visit.doctor.full_name in shown.text
    assert (await talk.memory.get_data())[DRAFT_KEY]["doctor_id"] == doctor_id


async def _grant(talk: Talk, person_id: int) -> tuple[str, str]:
    from bot.flows.appointment_common import acting_for

    acting = await acting_for(talk.ctx, person_id, "visit")
    return acting.grant_id, acting.requester_id


async def test_doctor_buttons_are_short_with_nearest_time_and_district_doctor_first(
    talk: Talk,
) -> None:
    talk.screen = (await flow.book_start(talk.ctx, talk.memory))[0]
    person_id = (await talk.memory.get_data())[DRAFT_KEY]["person_id"]
    grant = await _grant(talk, person_id)
    for visit in await talk.backend.list_appointments(*grant, upcoming=True):
        if visit.doctor.specialty.code == "therapist":  # one per specialty: free the way
            await talk.backend.cancel_appointment(*grant, visit.appointment_id)
    await talk.press("ap:s:therapist")
    assert talk.screen is not None
    doctors = [b for b in talk.screen.buttons if b.action.startswith("ap:d:")]
    assert len(doctors) > 1
    texts = [b.text for b in doctors]
    assert all(len(text) <= 40 for text in texts), texts
    assert all(" · " in text for text in texts), texts  # the nearest free time on each
    assert texts[0].startswith("🏠") and sum(t.startswith("🏠") for t in texts) == 1
    first_id = doctors[0].action.split(":", 2)[2]
    nearest = (await free_times(talk.backend, first_id, talk.ctx.clock()))[0]
    assert time_label(talk.ctx, nearest.starts_at) in texts[0]
    assert "district doctor" in talk.screen.text  # the mark is explained; clinics named there
    assert "Address" not in texts[0] and "ГБУЗ" in talk.screen.text


def test_short_doctor_name() -> None:
    assert short_name("Иванова Анна Сергеевна") == "Иванова А. С."
    assert short_name("Петров Олег") == "Петров О."


async def test_a_second_visit_of_one_specialty_is_refused_with_a_way_to_reschedule(
    talk: Talk,
) -> None:
    doctor_id, visit_id = await book_one(talk)
    code = (await talk.memory.get_data())[DRAFT_KEY]["specialty_code"]
    oleg_visits = await visit_ids(talk)
    # Choosing the same specialty again: warned at once, with the visit's Reschedule on top.
    talk.screen = (await flow.book_start(talk.ctx, talk.memory))[0]
    screens = await talk.press(f"ap:s:{code}")
    shown = last_shown(screens)
    assert "already has an appointment with this specialty" in shown.text
    assert shown.rows[0][0].action.startswith("av:m:") and visit_id in shown.rows[0][0].action
    # Going on anyway: the backend refuses it (EMIAS's rule, as the bot's sandbox runs it).
    talk.backend.one_visit_per_specialty = True
    await talk.press(f"ap:d:{doctor_id}")
    await talk.tap("cal:d:")
    await talk.tap("at:")
    [ok] = talk.on_screen("ab:ok:")
    screens = await talk.press(ok)
    assert any("already has an appointment" in s.text for s in screens)
    assert any(visit_id in a for a in talk.on_screen("av:m:"))
    assert await visit_ids(talk) == oleg_visits


async def visit_ids(talk: Talk) -> set[str]:
    from tests.unit.policies_support import persona

    oleg = await persona(talk.backend, "single")
    return {
        v.appointment_id for v in await talk.backend.appointments_of(oleg.policy) if v.is_active
    }
