"""Helpers for the policies tests: a seeded sandbox per test, users, reading the owner's SMS."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import User as TgUser
from sqlalchemy import select

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.simulation import Persona
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import LinkedPerson, User
from bot.services import users as users_service
from keyboards.policies import LinkKind, LinkStartCb, ScopeCb, ScopeChoice, TermCb, TermChoice
from tests.recording_bot import RecordingSession
from tests.sandbox_fixtures import TEST_NOW, persona
from tests.sandbox_fixtures import code_sent_to as last_code
from tests.updates import callback_update, contact_update, text_update, tg_user


async def consenting_user(sessionmaker: SessionMaker, telegram_id: int, first_name: str) -> TgUser:
    """A Telegram user who already chose Russian and gave consent (the first conversation is
    tested elsewhere)."""
    async with sessionmaker() as db:
        user = await users_service.get_or_create_user(db, telegram_id, TEST_NOW)
        users_service.set_language(user, "ru")
        users_service.give_consent(user, TEST_NOW)
        await db.commit()
    return TgUser(id=telegram_id, is_bot=False, first_name=first_name, language_code="ru")


async def people_rows(sessionmaker: SessionMaker, telegram_id: int) -> list[LinkedPerson]:
    """The user's rows in My people, as the bot keeps them."""
    async with sessionmaker() as db:
        user = await db.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
        return list(await db.scalars(select(LinkedPerson).where(LinkedPerson.user_id == user.id)))


class Chat:
    """One user talking to the bot; `said()` is the last text the bot sent anybody."""

    def __init__(
        self, dp: Dispatcher, bot: Bot, rec: RecordingSession, user: TgUser, clock: FrozenClock
    ) -> None:
        self.dp, self.bot, self.rec, self.user, self.clock = dp, bot, rec, user, clock

    async def text(self, text: str) -> None:
        await self.dp.feed_update(self.bot, text_update(text, self.user))

    async def press(self, data: str) -> None:
        await self.dp.feed_update(self.bot, callback_update(data, self.user))

    async def share_contact(self, phone: str, own: bool = True) -> None:
        owner = self.user.id if own else self.user.id + 1
        await self.dp.feed_update(self.bot, contact_update(phone, self.user, owner))

    def said(self) -> str:
        return self.rec.texts()[-1]

    def alerts(self) -> list[str]:
        answers: list[Any] = self.rec.sent("answerCallbackQuery")
        return [str(r.text) for r in answers if r.text]

    def security_alert(self, owner_id: int) -> Any:
        """The "someone got access to your card" message sent to `owner_id`."""
        sent: list[Any] = self.rec.sent("sendMessage")
        return next(r for r in sent if r.chat_id == owner_id and "🔐" in r.text)

    def last_request(self, method: str) -> Any:
        return self.rec.sent(method)[-1]

    async def link_own(self, backend: SandboxBackend, who: Persona) -> None:
        self.clock.advance(seconds=61)  # past the one-send-a-minute pause of earlier requests
        await self.press(LinkStartCb(kind=LinkKind.SELF).pack())
        if "поделиться своим контактом" in self.said():
            await self.share_contact("+7 900 000-00-00")
        await self.text(who.policy)
        await self.text(who.birth_date.strftime("%d.%m.%Y"))
        await self.text(await last_code(backend, who.phone))
        assert "ваша медкарта привязана" in self.said()

    async def request_relative(
        self,
        who: Persona,
        label: str = "Мама",
        scope: ScopeChoice = ScopeChoice.RECORDS,
        term: TermChoice = TermChoice.HALF_YEAR,
    ) -> None:
        await self.press(LinkStartCb(kind=LinkKind.RELATIVE).pack())
        if "поделиться своим контактом" in self.said():
            await self.share_contact("+7 900 000-00-01")
        await self.text(label)
        await self.text(who.policy)
        await self.text(who.birth_date.isoformat())
        await self.press(ScopeCb(scope=scope).pack())
        await self.press(TermCb(term=term).pack())

    async def link_relative(self, backend: SandboxBackend, who: Persona, **kw: Any) -> None:
        self.clock.advance(seconds=61)
        await self.request_relative(who, **kw)
        await self.text(await last_code(backend, who.phone))
        # The owner's security alert (to another chat) may come right after the answer.
        assert any("теперь в разделе «Мои люди»" in t for t in self.rec.texts()[-2:])


def new_user_id(base: int = 5000, _counter: list[int] = [0]) -> int:  # noqa: B006
    _counter[0] += 1
    return base + _counter[0]


__all__ = [
    "Chat",
    "consenting_user",
    "last_code",
    "new_user_id",
    "people_rows",
    "persona",
    "tg_user",
]
