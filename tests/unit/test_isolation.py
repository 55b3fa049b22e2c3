"""One user's updates are handled one at a time; different users' at the same time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command
from aiogram.types import Message, Update

from tests.recording_bot import RecordingSession
from tests.unit.chat import put_first
from tests.updates import text_update, tg_user


@dataclass
class Tracker:
    """Records handler entries and exits; handlers wait until `release` is set."""

    events: list[tuple[str, int]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    running: int = 0
    most_at_once: int = 0

    def entered(self) -> int:
        return sum(1 for kind, _ in self.events if kind == "enter")

    async def until_entered(self, count: int, timeout: float = 2.0) -> None:
        async with asyncio.timeout(timeout):
            while self.entered() < count:
                self.changed.clear()
                await self.changed.wait()


def install_tracker(dispatcher: Dispatcher, tracker: Tracker | None = None) -> Tracker:
    tracker = tracker or Tracker()
    router = Router(name="isolation-probe")

    @router.message(Command("hold"))
    async def hold(message: Message) -> None:
        tracker.events.append(("enter", message.message_id))
        tracker.changed.set()
        tracker.running += 1
        tracker.most_at_once = max(tracker.most_at_once, tracker.running)
        try:
            await tracker.release.wait()
        finally:
            tracker.running -= 1
            tracker.events.append(("exit", message.message_id))

    put_first(dispatcher, router)
    return tracker


async def feed_together(
    dispatcher: Dispatcher, bot: Bot, tracker: Tracker, updates: list[Update], expect_at_once: int
) -> None:
    """Feed all updates at once; release the handlers when `expect_at_once` of them are in
    (then give the others every chance to sneak in, which they must not)."""

    async def conductor() -> None:
        await tracker.until_entered(expect_at_once)
        for _ in range(20):  # let every other ready task run
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        tracker.release.set()

    await asyncio.gather(*(dispatcher.feed_update(bot, u) for u in updates), conductor())


async def _known_users(dispatcher: Dispatcher, bot: Bot, *user_ids: int) -> None:
    # Users who wrote before: the update's own DB work is a read until the handler returns.
    for user_id in user_ids:
        await dispatcher.feed_update(bot, text_update("/help", tg_user(user_id)))


async def test_two_updates_of_one_user_never_overlap(
    dispatcher: Dispatcher, bot_and_session: tuple[Bot, RecordingSession]
) -> None:
    bot, _ = bot_and_session
    await _known_users(dispatcher, bot, 6001)
    tracker = install_tracker(dispatcher)
    user = tg_user(6001)
    first, second = text_update("/hold", user), text_update("/hold", user)
    assert first.message is not None and second.message is not None

    await feed_together(dispatcher, bot, tracker, [first, second], expect_at_once=1)

    assert tracker.most_at_once == 1
    ids = [first.message.message_id, second.message.message_id]
    # One ran to the end before the other began (in either order).
    assert tracker.events in (
        [("enter", ids[0]), ("exit", ids[0]), ("enter", ids[1]), ("exit", ids[1])],
        [("enter", ids[1]), ("exit", ids[1]), ("enter", ids[0]), ("exit", ids[0])],
    )


async def test_different_users_run_at_the_same_time(
    dispatcher: Dispatcher, bot_and_session: tuple[Bot, RecordingSession]
) -> None:
    bot, _ = bot_and_session
    await _known_users(dispatcher, bot, 6002, 6003, 6004)
    tracker = install_tracker(dispatcher)
    updates = [text_update("/hold", tg_user(user_id)) for user_id in (6002, 6003, 6004)]

    # The conductor only releases once all three are inside at the same moment.
    await feed_together(dispatcher, bot, tracker, updates, expect_at_once=3)

    assert tracker.most_at_once == 3
    assert [kind for kind, _ in tracker.events] == ["enter"] * 3 + ["exit"] * 3


async def test_one_slow_user_does_not_hold_up_another(
    dispatcher: Dispatcher, bot_and_session: tuple[Bot, RecordingSession]
) -> None:
    bot, session = bot_and_session
    await _known_users(dispatcher, bot, 6005, 6006)
    tracker = install_tracker(dispatcher)
    slow = asyncio.create_task(dispatcher.feed_update(bot, text_update("/hold", tg_user(6005))))
    await tracker.until_entered(1)

    before = len(session.requests)
    async with asyncio.timeout(2):
        await dispatcher.feed_update(bot, text_update("/help", tg_user(6006)))
    assert len(session.requests) == before + 1  # answered while the other is still busy
    assert not slow.done()

    tracker.release.set()
    await slow
