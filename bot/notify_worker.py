"""The worker's notification jobs: follow the event feed, plan reminders, deliver the outbox,
and run the appointments feature's slot watches (their hits go through the same outbox).

Every job runs until `stop` whatever its dependencies do (`bot/outages.py`): a round that
fails on an outage waits a backoff and tries again, one log line when the outage starts and
one when it ends. Everything reads the app's one clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.crypto import FieldCipher
from bot.db.models import MAX
from bot.notify_telegram import TelegramSender
from bot.outages import REDIS, Backoff, Circuit, OutageLog, keep_running
from bot.services.appointments.watch_engine import WatchEngine, watch_loop
from bot.services.notifications.decisions import Decision
from bot.services.notifications.delivery import JOB as DELIVER_JOB
from bot.services.notifications.delivery import DeliveryLoop
from bot.services.notifications.intake import follow_feed_once
from bot.services.notifications.journal import GuardedJournal, NoJournal, RedisJournal, SentJournal
from bot.services.notifications.outbox import ClaimedMessage
from bot.services.notifications.pacing import LOCAL_SHARE, FallbackGate, Gate, MemoryGate, RedisGate
from bot.services.notifications.planner import plan_reminders
from bot.services.notifications.prepare import SendContext, prepare
from bot.services.notifications.render import NotificationView
from bot.services.notifications.sending import Outcome, SendFn, SendResult
from bot.services.notifications.slot_hits import OutboxSlotHitNotifier
from max_channel.notify import MaxSender


class Job(StrEnum):
    DELIVER = "deliver"
    FEED = "feed"
    REMINDERS = "reminders"
    WATCHES = "watches"


FEED_ROUND_SECONDS = 60.0
REMINDERS_ROUND_SECONDS = 600.0
"""The longest one round may take before it counts as hung (one pass over every card)."""


def create_gate(app: App, circuit: Circuit | None = None) -> Gate:
    rate = app.settings.notifications.rate_per_second
    if app.redis is None:
        return MemoryGate(rate, clock=app.clock)
    shared = RedisGate(app.redis, app.settings.redis.redis_prefix, rate)
    if circuit is None:
        return shared
    return FallbackGate(shared, MemoryGate(rate * LOCAL_SHARE, clock=app.clock), circuit)


def create_journal(app: App, circuit: Circuit | None = None) -> SentJournal:
    if app.redis is None:
        return NoJournal()
    # Long enough for a dead worker's leases to run out and its rows to be claimed again.
    keep = max(600.0, app.settings.notifications.lease_seconds * 10)
    journal = RedisJournal(app.redis, app.settings.redis.redis_prefix, keep)
    return journal if circuit is None else GuardedJournal(journal, circuit)


def create_delivery(app: App) -> DeliveryLoop:
    config = app.settings.notifications
    context = SendContext(app.backend, app.keys, app.i18n, app.settings.app.default_locale)
    outages = OutageLog(DELIVER_JOB, app.clock)
    redis = Circuit(REDIS, outages)  # the gate and the journal: one Redis, one outage line

    async def prepare_message(session: AsyncSession, message: ClaimedMessage) -> Decision:
        return await prepare(session, context, message, app.clock())

    telegram: SendFn = (
        TelegramSender(app.telegram_bot, paid_broadcast=config.paid_broadcast)
        if app.telegram_bot is not None
        else _channel_off
    )
    others: dict[str, SendFn] = {}
    if app.max_bot is not None:
        others[MAX] = MaxSender(app.max_bot)
    return DeliveryLoop(
        app.sessionmaker,
        prepare_message,
        telegram,
        create_gate(app, redis),
        clock=app.clock,
        concurrency=config.send_concurrency,
        lease_seconds=config.lease_seconds,
        journal=create_journal(app, redis),
        outages=outages,
        other_channels=others,
    )


async def _channel_off(chat_id: int, view: NotificationView) -> SendResult:
    """No Telegram bot here (CHANNEL=max): a Telegram user's row waits for one that has it."""
    return SendResult(Outcome.NETWORK, reason="channel_off")


async def run_notification_jobs(app: App, stop: asyncio.Event, jobs: set[Job]) -> None:
    config = app.settings.notifications
    cipher = FieldCipher(app.keys)
    tasks: list[Awaitable[None]] = []
    if Job.FEED in jobs:

        async def feed() -> int:
            # Events read: more may wait behind them, so the next batch is read at once.
            return await follow_feed_once(app.sessionmaker, app.backend, cipher, app.clock)

        tasks.append(
            keep_running(
                Job.FEED,
                feed,
                stop,
                every=config.feed_poll_seconds,
                clock=app.clock,
                round_timeout=FEED_ROUND_SECONDS,
            )
        )
    if Job.REMINDERS in jobs:

        async def reminders() -> None:
            await plan_reminders(app.sessionmaker, app.backend, app.keys, now=app.clock())

        tasks.append(
            keep_running(
                Job.REMINDERS,
                reminders,
                stop,
                every=config.reminder_poll_seconds,
                clock=app.clock,
                round_timeout=REMINDERS_ROUND_SECONDS,
                backoff=Backoff(first=2.0, cap=60.0),
            )
        )
    if Job.WATCHES in jobs:
        notifier = OutboxSlotHitNotifier(app.sessionmaker, app.clock)
        engine = WatchEngine(app.sessionmaker, app.backend, app.keys, notifier, clock=app.clock)
        tasks.append(watch_loop(engine, stop))
    if Job.DELIVER in jobs:
        tasks.append(create_delivery(app).run(stop))
    await asyncio.gather(*tasks)
