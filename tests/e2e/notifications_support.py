"""Shared by the notification e2e tests (tests/e2e/test_notifications_*_e2e.py): the fixtures
that put everyone on the sandbox clock and give a round of the worker's own jobs, and the steps a
person takes in the bot (linking a relative, booking a visit, pressing a free calendar day) with
helpers that read what the bot stored and how it writes a visit's time."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.clock import MSK
from backend_client.sandbox.simulation import Persona
from bot.clock import FrozenClock
from bot.crypto import FieldCipher
from bot.db.models import LinkedPerson, User
from bot.db.notifications_models import OutboxMessage
from bot.emulator import UserDriver
from bot.emulator.models import StoredMessage
from bot.offline import OfflineStack
from bot.services.linking import PURPOSE_LABEL
from bot.services.notifications.kinds import Kind
from tests.e2e.booking import tap, with_button
from tests.e2e.helpers import last_text
from tests.e2e.people import code_sent_to
from tests.e2e.worker import Worker, at_noon_in_moscow

RECORDS = "Appointments and the medical record"
APPOINTMENTS = "Appointments only"


@pytest.fixture(autouse=True)
def everyone_reads_the_sandbox_clock(stack: OfflineStack, sandbox_clock: FrozenClock) -> None:
    at_noon_in_moscow(stack, sandbox_clock)


@pytest.fixture
def worker(stack: OfflineStack) -> Worker:
    return Worker(stack)


# ----- people -------------------------------------------------------------------------------


async def link_relative(
    user: UserDriver, sandbox: SandboxBackend, who: Persona, label: str, scope: str
) -> None:
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ A relative's policy")
    if "📱 Share my phone number" in user.reply_keyboard:
        await user.press("📱 Share my phone number")
    await user.send_text(label)
    await user.send_text(who.policy)
    await user.send_text(f"{who.birth_date:%d.%m.%Y}")
    await user.press(scope)
    await user.press("6 months")
    await user.send_text(await code_sent_to(sandbox, who.phone))
    assert f"{label} is now in My people" in last_text(user)


async def own_label(stack: OfflineStack, telegram_id: int) -> str:
    async with stack.app.sessionmaker() as db:
        row = (
            await db.scalars(
                select(LinkedPerson)
                .join(User, User.id == LinkedPerson.user_id)
                .where(User.telegram_id == telegram_id)
            )
        ).one()
    return FieldCipher(stack.app.keys).decrypt(row.label_enc, purpose=PURPOSE_LABEL)


async def outbox(stack: OfflineStack, kind: Kind) -> list[OutboxMessage]:
    async with stack.app.sessionmaker() as db:
        rows = await db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind.value).order_by(OutboxMessage.id)
        )
        return list(rows)


def shown(user: UserDriver, message_id: int) -> StoredMessage:
    """One message of the chat as the user sees it now (edits applied)."""
    return user.chat.messages[message_id]


async def tap_free_day(user: UserDriver, *, nth: int = 0, after: date | None = None) -> date:
    """Press the `nth` (from 0) day with free times on the newest calendar, later than `after`,
    turning its pages forward as a person would; returns the day pressed. Full days (✕) and
    days outside the window are not buttons of this kind, whatever today's date is."""
    message, _ = with_button(user, "cal:")
    skipped = 0
    for _page in range(3):
        calendar = shown(user, message.message_id)
        for data in calendar_data(calendar, "cal:d:"):
            day = datetime.strptime(data.removeprefix("cal:d:"), "%Y%m%d").date()
            if after is not None and day <= after:
                continue
            if skipped == nth:
                answer = await user.press_data(message.message_id, data)
                assert not answer.show_alert, answer.text
                return day
            skipped += 1
        [header, *_rows] = calendar.inline_keyboard
        forward = str(header[-1].get("callback_data", ""))
        if not forward.startswith("cal:m:"):
            break
        await user.press_data(message.message_id, forward)  # the next month, in place
    raise AssertionError(f"no free day to press; the user sees:\n{user.describe_buttons()}")


def calendar_data(message: StoredMessage, prefix: str) -> list[str]:
    return [
        str(b.get("callback_data"))
        for row in message.inline_keyboard
        for b in row
        if str(b.get("callback_data", "")).startswith(prefix)
    ]


async def book_a_visit(user: UserDriver, sandbox: SandboxBackend, policy: str, day: int) -> str:
    """Book through the bot the first free time on the `day`-th (from 0) day with free times
    of the first doctor; returns the visit id."""
    before = {v.appointment_id for v in await sandbox.appointments_of(policy)}
    await user.press("📅 Book a doctor")
    await tap(user, "ap:s:")
    await tap(user, "ap:d:")
    await tap_free_day(user, nth=day)
    await tap(user, "at:")
    await tap(user, "ab:ok:")
    [new] = [v for v in await sandbox.appointments_of(policy) if v.appointment_id not in before]
    return new.appointment_id


def moscow(moment: datetime, now: datetime) -> str:
    """How the bot writes a visit's time at `now`: Moscow time, "25 November, 08:00", with the
    year when it is not this (Moscow) year: "4 January 2027, 14:00"."""
    local = moment.astimezone(MSK)
    year = "" if local.year == now.astimezone(MSK).year else f" {local.year}"
    return f"{local.day} {local:%B}{year}, {local:%H:%M}"


def no_values(text: str) -> None:
    """A lock screen shows it: a label and the kind of news, no numbers, names of tests."""
    assert not re.search(r"\d", text), text
