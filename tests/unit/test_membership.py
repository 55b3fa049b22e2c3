"""Block and unblock (`my_chat_member`) through the real dispatcher and its middlewares: the
state is recorded, nothing is sent, throttling never drops it, the log names no one."""

from __future__ import annotations

import io
import itertools
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import (
    Chat,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    Update,
)
from aiogram.types import User as TgUser
from sqlalchemy import func, select

from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.keys import AppKeys
from bot.logs import pseudonym, setup_logging
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.services.rate_limit import MemoryRateLimiter
from bot.services.users import give_consent
from tests.recording_bot import RecordingSession
from tests.sandbox_fixtures import TEST_NOW
from tests.updates import text_update, tg_user

BOT = TgUser(id=42, is_bot=True, first_name="EMK bot")
_ids = itertools.count(900_000)
Status = ChatMemberMember | ChatMemberBanned | ChatMemberLeft


def member() -> ChatMemberMember:
    return ChatMemberMember(user=BOT)


def kicked() -> ChatMemberBanned:
    return ChatMemberBanned(user=BOT, until_date=datetime.fromtimestamp(0, UTC))


def left() -> ChatMemberLeft:
    return ChatMemberLeft(user=BOT)


def membership(user: TgUser, old: Status, new: Status, chat: Chat | None = None) -> Update:
    return Update(
        update_id=next(_ids),
        my_chat_member=ChatMemberUpdated(
            chat=chat or Chat(id=user.id, type="private"),
            from_user=user,
            date=TEST_NOW,
            old_chat_member=old,
            new_chat_member=new,
        ),
    )


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


class Person:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot_and_session: tuple[Bot, RecordingSession],
        sessionmaker: SessionMaker,
        telegram_id: int,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot, self.session = bot_and_session
        self.sessionmaker = sessionmaker
        self.tg = tg_user(telegram_id, language_code="en")

    async def feed(self, update: Update) -> int:
        """Feed an update; the number of Bot API calls the bot made because of it."""
        before = len(self.session.requests)
        await self.dispatcher.feed_update(self.bot, update)
        return len(self.session.requests) - before

    async def blocks(self) -> int:
        return await self.feed(membership(self.tg, member(), kicked()))

    async def unblocks(self) -> int:
        return await self.feed(membership(self.tg, kicked(), member()))

    async def row(self) -> User | None:
        async with self.sessionmaker() as db:
            return await db.scalar(select(User).where(User.telegram_id == self.tg.id))

    async def consents(self) -> None:
        await self.feed(text_update("/start", self.tg))
        async with self.sessionmaker() as db:
            me = await db.scalar(select(User).where(User.telegram_id == self.tg.id))
            assert me is not None
            give_consent(me, TEST_NOW)
            await db.commit()


@pytest.fixture
def person(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    sessionmaker: SessionMaker,
) -> Person:
    return Person(dispatcher, bot_and_session, sessionmaker, 5101)


async def _users(sessionmaker: SessionMaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)


def test_the_bot_asks_telegram_for_block_updates(dispatcher: Dispatcher) -> None:
    assert "my_chat_member" in dispatcher.resolve_used_update_types()


async def test_block_and_unblock_are_recorded_and_nothing_is_sent(person: Person) -> None:
    await person.consents()

    assert await person.blocks() == 0
    me = await person.row()
    assert me is not None and me.blocked_at is not None
    first = me.blocked_at

    # The user middleware does not take a repeated block for the user coming back.
    assert await person.blocks() == 0
    me = await person.row()
    assert me is not None and me.blocked_at == first

    assert await person.unblocks() == 0
    me = await person.row()
    assert me is not None and me.blocked_at is None and me.has_consent


async def test_a_message_after_a_block_clears_it(person: Person) -> None:
    await person.consents()
    await person.blocks()
    assert await person.feed(text_update("/help", person.tg)) == 1  # answered as usual
    me = await person.row()
    assert me is not None and me.blocked_at is None


async def test_unknown_users_and_groups_create_no_rows(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    sessionmaker: SessionMaker,
) -> None:
    stranger = Person(dispatcher, bot_and_session, sessionmaker, 5102)
    group = Chat(id=-100500, type="group", title="Family")
    assert await stranger.blocks() == 0
    assert await stranger.unblocks() == 0
    assert await stranger.feed(membership(stranger.tg, left(), member(), group)) == 0
    assert await stranger.feed(membership(stranger.tg, member(), kicked(), group)) == 0
    assert await _users(sessionmaker) == 0


async def test_group_and_odd_updates_leave_a_known_user_as_they_were(person: Person) -> None:
    await person.consents()
    group = Chat(id=-100500, type="supergroup", title="Family")
    someone_else = Chat(id=5999, type="private")
    for update in (
        membership(person.tg, member(), kicked(), group),
        membership(person.tg, member(), kicked(), someone_else),
        membership(person.tg, member(), left()),
        membership(person.tg, member(), member()),
    ):
        assert await person.feed(update) == 0
        me = await person.row()
        assert me is not None and me.blocked_at is None

    await person.blocks()
    for update in (
        membership(person.tg, kicked(), member(), group),
        membership(person.tg, kicked(), member(), someone_else),
        membership(person.tg, left(), member()),
    ):
        assert await person.feed(update) == 0
        me = await person.row()
        assert me is not None and me.blocked_at is not None


async def test_a_flood_of_messages_does_not_make_the_bot_miss_a_block(
    person: Person, dispatcher: Dispatcher
) -> None:
    [throttling] = [
        m for m in dispatcher.update.outer_middleware if isinstance(m, ThrottlingMiddleware)
    ]
    assert isinstance(throttling._limiter, MemoryRateLimiter)
    throttling._limiter._clock = lambda: 1000.0  # time stands still: no tokens come back
    await person.consents()
    for _ in range(20):  # far beyond the burst: later messages are dropped
        await person.feed(text_update("/help", person.tg))
    assert await person.feed(text_update("/help", person.tg)) == 0  # throttled

    await person.blocks()
    me = await person.row()
    assert me is not None and me.blocked_at is not None
    await person.unblocks()
    me = await person.row()
    assert me is not None and me.blocked_at is None


async def test_the_log_says_what_happened_but_not_who(
    person: Person, keys: AppKeys, log_stream: io.StringIO
) -> None:
    setup_logging("DEBUG", log_stream)
    await person.consents()
    await person.blocks()
    await person.unblocks()
    await person.feed(membership(tg_user(5103), member(), kicked()))

    records = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    ours = [r for r in records if r["event"] in ("user.blocked_bot", "user.unblocked_bot")]
    assert [(r["event"], r["known"]) for r in ours] == [
        ("user.blocked_bot", True),
        ("user.unblocked_bot", True),
        ("user.blocked_bot", False),
    ]
    assert all(
        set(r) <= {"ts", "level", "logger", "event", "known", "changed", "consent"} for r in ours
    )
    updates = [r for r in records if r["event"] == "update" and r["kind"] == "my_chat_member"]
    assert [r["outcome"] for r in updates] == ["handled"] * 3
    assert {r["user"] for r in updates} == {pseudonym(5101), pseudonym(5103)}
    output = log_stream.getvalue()
    assert "5101" not in output and "5103" not in output and "Тест" not in output
