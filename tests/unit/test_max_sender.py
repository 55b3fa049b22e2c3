"""Notifications to people on MAX (`max_channel.notify.MaxSender`) against the MAX emulator:
what MAX answers becomes the delivery loop's outcome — sent, blocked (the person stopped the
bot), retry after (429), wait (a token MAX does not know) — and the buttons keep their ids."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.clock import FrozenClock
from bot.emulator.clock import Clock
from bot.max_emulator import MaxEmulatorServer, MaxRateLimits, MaxWorld
from bot.max_emulator.harness import emulator_bot
from bot.services.notifications.render import Action, Button, NotificationView
from bot.services.notifications.sending import Outcome
from max_channel.notify import MaxSender
from tests.sandbox_fixtures import frozen_clock

VIEW = NotificationView(
    "🧪 A new lab result is ready.", (Button("Open", Action.OPEN_ENTRY, 3, "e-1"),)
)


@pytest.fixture
def clock() -> FrozenClock:
    return frozen_clock()


@pytest.fixture
async def server(clock: FrozenClock) -> AsyncIterator[MaxEmulatorServer]:
    async with MaxEmulatorServer(MaxWorld(clock=Clock(clock))) as running:
        yield running


@contextlib.asynccontextmanager
async def sender(server: MaxEmulatorServer, token: str | None = None) -> AsyncIterator[MaxSender]:
    bot = emulator_bot(server, token=token)
    try:
        yield MaxSender(bot)
    finally:
        await bot.close_session()


async def test_a_notification_reaches_the_person_with_its_button(
    server: MaxEmulatorServer,
) -> None:
    person = server.world.user(2001, "Олег")
    person.dialog.started = True
    async with sender(server) as send:
        result = await send(person.user_id, VIEW)
    assert result.outcome is Outcome.SENT
    [message] = person.messages
    assert message.text == VIEW.text
    [[button]] = message.keyboard
    assert button["payload"] == "rd:o:3:e-1"  # the records flow's own id, as on Telegram


async def test_a_person_who_stopped_the_bot_is_blocked(server: MaxEmulatorServer) -> None:
    person = server.world.user(2002, "Дина")
    person.dialog.started = True
    await person.stop(settle=False)  # no bot is polling here: MAX records the stop itself
    async with sender(server) as send:
        result = await send(person.user_id, VIEW)
    assert result.outcome is Outcome.BLOCKED


async def test_too_fast_is_retried_after_a_second(server: MaxEmulatorServer) -> None:
    world = server.world
    world.limiter.configure(MaxRateLimits(enabled=True, per_chat_per_second=1.0, per_chat_burst=1))
    person = world.user(2003, "Глеб")
    person.dialog.started = True
    async with sender(server) as send:
        assert (await send(person.user_id, VIEW)).outcome is Outcome.SENT
        refused = await send(person.user_id, VIEW)
    assert refused.outcome is Outcome.RETRY_AFTER and refused.retry_after == 1.0


async def test_a_token_max_does_not_know_makes_the_rows_wait(server: MaxEmulatorServer) -> None:
    person = server.world.user(2004, "Ира")
    person.dialog.started = True
    async with sender(server, token="not-the-token") as send:
        result = await send(person.user_id, VIEW)
    assert result.outcome is Outcome.NETWORK and result.reason == "unauthorized"
