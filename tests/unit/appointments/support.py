"""Helpers for the appointments tests: the buttons a person sees, and an outsider who books."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from backend_client.models import Relation, Requester, Scope
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.simulation import Persona
from bot.db.engine import SessionMaker
from bot.db.models import LinkedPerson, User
from tests.recording_bot import RecordingSession
from tests.unit.policies_support import Chat, last_code
from tests.unit.records_support import buttons, last_with_buttons

BOOK = "📅 Записаться к врачу"
VISITS = "🗓 Мои записи"
WATCHES = "👀 Слежение за талонами"


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


async def people_rows(sessionmaker: SessionMaker, telegram_id: int) -> list[LinkedPerson]:
    async with sessionmaker() as db:
        user = await db.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        return list(await db.scalars(select(LinkedPerson).where(LinkedPerson.user_id == user.id)))
