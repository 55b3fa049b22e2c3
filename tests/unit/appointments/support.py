"""Helpers for the appointments tests: the buttons a person sees, and an outsider who books."""

from __future__ import annotations

import itertools
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey

from backend_client.models import Relation, Requester, Scope
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.simulation import Persona
from keyboards.appointments import PickCb
from tests.recording_bot import RecordingSession
from tests.sandbox_fixtures import free_a_time, free_times
from tests.unit.policies_support import Chat, last_code, people_rows
from tests.unit.records_support import buttons, last_with_buttons

BOOK = "📅 Записаться к врачу"
VISITS = "🗓 Мои записи"
WATCHES = "👀 Отслеживание свободного времени"


def screen(chat: Chat) -> Any:
    """The newest message (sent or edited) with inline buttons in this chat."""
    return last_with_buttons(chat.rec, chat.user.id)


def data_of(request: Any, prefix: str, nth: int = 0) -> str:
    """The callback data of the `nth` button whose data starts with `prefix`."""
    found = [data for _text, data in buttons(request) if data.startswith(prefix)]
    assert len(found) > nth, f"no button {prefix!r} in {buttons(request)}"
    return found[nth]


async def tap(chat: Chat, prefix: str, nth: int = 0) -> str:
    data = data_of(screen(chat), prefix, nth)
    await chat.press(data)
    return data


def all_data(request: Any, prefix: str) -> list[str]:
    """The callback data of every button whose data starts with `prefix`."""
    return [data for _text, data in buttons(request) if data.startswith(prefix)]


async def tap_on(chat: Chat, prefix: str, part: str) -> str:
    """Tap the button whose data starts with `prefix` and contains `part` (e.g. a visit id)."""
    found = [data for data in all_data(screen(chat), prefix) if part in data]
    assert found, f"no button {prefix!r} with {part!r} in {buttons(screen(chat))}"
    await chat.press(found[0])
    return found[0]


async def doctor_with_free_time(
    chat: Chat, backend: SandboxBackend, but_not: str | None = None
) -> str | None:
    """The data of the first doctor button on screen (other than `but_not`) with a free time
    in the bot's window now."""
    for data in all_data(screen(chat), "ap:d:"):
        doctor_id = PickCb.unpack(data).ref
        if doctor_id != but_not and await free_times(backend, doctor_id, chat.clock()):
            return data
    return None


async def to_calendar(
    chat: Chat, backend: SandboxBackend, choice: str = "ap:s:", who: int | None = None
) -> None:
    """Menu → (the `who`-th person) → the first specialty or referral (`choice`: a prefix of its
    button) with a doctor who has a free time now → that doctor's calendar.

    Which doctor has free times depends on the moment the test runs (a fully booked doctor,
    a weekend, the last evening of the window), so the sandbox is asked. Should none on offer
    have any, an outsider's slot of the first one is freed, as a clinic would."""
    for nth in itertools.count():
        await chat.text(BOOK)
        if who is not None:
            await tap(chat, "aw:b:", who)
        options = all_data(screen(chat), choice)
        assert options, f"no button {choice!r} in {buttons(screen(chat))}"
        await chat.press(options[nth % len(options)])
        doctor = await doctor_with_free_time(chat, backend)
        if doctor is None and nth + 1 >= len(options):
            doctor = data_of(screen(chat), "ap:d:")
            await free_a_time(backend, PickCb.unpack(doctor).ref, chat.clock())
        if doctor is not None:
            await chat.press(doctor)
            return


async def to_confirmation(
    chat: Chat, backend: SandboxBackend, choice: str = "ap:s:", who: int | None = None
) -> None:
    """`to_calendar`, then the first free day and its first time: the confirmation screen."""
    await to_calendar(chat, backend, choice, who)
    await tap(chat, "cal:d:")
    await tap(chat, "at:")


async def fsm(dp: Dispatcher, bot: Bot, telegram_id: int) -> dict[str, Any]:
    key = StorageKey(bot_id=bot.id, chat_id=telegram_id, user_id=telegram_id)
    return await dp.storage.get_data(key)


def alerts_since(rec: RecordingSession, since: int) -> list[str]:
    return [
        str(getattr(r, "text", ""))
        for r in rec.requests[since:]
        if r.__api_method__ == "answerCallbackQuery" and getattr(r, "text", None)
    ]


async def outsider_grant(sandbox: SandboxBackend, who: Persona, requester_id: str) -> str:
    """Another requester holding `who`'s own card at the backend (not through this bot)."""
    requester = Requester(id=requester_id, display_name="Другой")
    challenge = await sandbox.request_access(
        who.policy, who.birth_date, requester, Relation.SELF, Scope.RECORDS
    )
    code = await last_code(sandbox, who.phone)
    grant = await sandbox.confirm_access(challenge.challenge_id, code, requester)
    return grant.grant_id


__all__ = [
    "BOOK",
    "VISITS",
    "WATCHES",
    "alerts_since",
    "all_data",
    "data_of",
    "doctor_with_free_time",
    "fsm",
    "outsider_grant",
    "people_rows",
    "screen",
    "tap",
    "tap_on",
    "to_calendar",
    "to_confirmation",
]
