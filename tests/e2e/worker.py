"""The notification worker in e2e tests: its own jobs, one deterministic round at a time, on
the sandbox's clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from backend_client.sandbox.clock import at_msk, msk_date
from bot.app import App
from bot.clock import FrozenClock
from bot.crypto import FieldCipher
from bot.notify_worker import create_delivery
from bot.services.appointments.watch_engine import RoundStats, run_watch_round
from bot.services.notifications.delivery import DeliveryStats
from bot.services.notifications.intake import follow_feed_once
from bot.services.notifications.planner import plan_reminders
from bot.services.notifications.slot_hits import OutboxSlotHitNotifier


class Running(Protocol):
    """A running bot on either messenger (`OfflineStack`, `OfflineMaxStack`, a channel)."""

    @property
    def app(self) -> App: ...


def at_noon_in_moscow(stack: Running, sandbox_clock: FrozenClock) -> None:
    """The bot's handlers and the worker's jobs read the one clock (the sandbox's), moved on to
    the next noon in Moscow: no test depends on the hour it runs at (quiet hours 22:00-08:00)."""
    assert stack.app.clock is sandbox_clock
    telegram = stack.app.telegram_dispatcher
    assert telegram is None or telegram["clock"] is sandbox_clock
    now = sandbox_clock()
    noon = at_msk(msk_date(now), 12)
    sandbox_clock.set(noon if noon > now else noon + timedelta(days=1))


class Worker:
    """What `python -m bot worker` runs, one deterministic round at a time."""

    def __init__(self, stack: Running) -> None:
        self.app = stack.app
        self.cipher = FieldCipher(stack.app.keys)
        self.started = False

    async def feed(self) -> None:
        if not self.started:  # the very first call only creates the cursor (the feed's start)
            await follow_feed_once(
                self.app.sessionmaker, self.app.backend, self.cipher, self.app.clock
            )
            self.started = True
        for _ in range(20):
            if not await follow_feed_once(
                self.app.sessionmaker, self.app.backend, self.cipher, self.app.clock
            ):
                return
        raise AssertionError("the feed did not drain")

    async def plan(self) -> int:
        return await plan_reminders(
            self.app.sessionmaker, self.app.backend, self.app.keys, now=self.app.clock()
        )

    async def watches(self, *, poll: bool = False) -> RoundStats:
        """One slot-watch round as the worker runs it: hits go to the outbox, `deliver` sends
        them to the messenger each person uses."""
        app = self.app
        notifier = OutboxSlotHitNotifier(app.sessionmaker, app.clock)
        return await run_watch_round(
            app.sessionmaker, app.backend, app.keys, notifier, poll=poll, clock=app.clock
        )

    async def deliver(self) -> DeliveryStats:
        """Claim and handle every due row (a fresh worker process: its own pacing gate)."""
        delivery = create_delivery(self.app)
        for _ in range(20):
            if not await delivery.run_once():
                return delivery.stats
        raise AssertionError("the outbox did not drain")

    async def round(self, *, plan: bool = False) -> DeliveryStats:
        await self.feed()
        if plan:
            await self.plan()
        return await self.deliver()
