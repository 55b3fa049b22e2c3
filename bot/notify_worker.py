"""The worker's notification jobs: follow the event feed, plan reminders, deliver the outbox,
and run the appointments feature's slot watches (their hits go through the same outbox)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.crypto import FieldCipher
from bot.logs import log_event
from bot.notify_telegram import TelegramSender
from bot.services.appointments.watches import WatchEngine, watch_loop
from bot.services.notifications.decisions import Decision
from bot.services.notifications.delivery import DeliveryLoop
from bot.services.notifications.intake import follow_feed_once
from bot.services.notifications.journal import NoJournal, RedisJournal, SentJournal
from bot.services.notifications.outbox import ClaimedMessage
from bot.services.notifications.pacing import Gate, MemoryGate, RedisGate
from bot.services.notifications.planner import plan_reminders
from bot.services.notifications.prepare import SendContext, prepare
from bot.services.notifications.slot_hits import OutboxSlotHitNotifier

logger = logging.getLogger(__name__)


class Job(StrEnum):
    DELIVER = "deliver"
    FEED = "feed"
    REMINDERS = "reminders"
    WATCHES = "watches"


def create_gate(app: App) -> Gate:
    rate = app.settings.notifications.rate_per_second
    if app.redis is not None:
        return RedisGate(app.redis, app.settings.redis.redis_prefix, rate)
    return MemoryGate(rate)


def create_journal(app: App) -> SentJournal:
    if app.redis is None:
        return NoJournal()
    # Long enough for a dead worker's leases to run out and its rows to be claimed again.
    keep = max(600.0, app.settings.notifications.lease_seconds * 10)
    return RedisJournal(app.redis, app.settings.redis.redis_prefix, keep)


def create_delivery(app: App) -> DeliveryLoop:
    config = app.settings.notifications
    context = SendContext(app.backend, app.keys, app.i18n, app.settings.app.default_locale)

    async def prepare_message(session: AsyncSession, message: ClaimedMessage) -> Decision:
        return await prepare(session, context, message)

    return DeliveryLoop(
        app.sessionmaker,
        prepare_message,
        TelegramSender(app.bot, paid_broadcast=config.paid_broadcast),
        create_gate(app),
        concurrency=config.send_concurrency,
        lease_seconds=config.lease_seconds,
        journal=create_journal(app),
    )


async def _every(
    seconds: float, job: Callable[[], Awaitable[object]], stop: asyncio.Event, name: str
) -> None:
    while not stop.is_set():
        try:
            await job()
        except Exception as error:  # noqa: BLE001 - a periodic job survives one bad round
            log_event(
                logger, "worker.job_failed", logging.WARNING, job=name, error=type(error).__name__
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def run_notification_jobs(app: App, stop: asyncio.Event, jobs: set[Job]) -> None:
    config = app.settings.notifications
    cipher = FieldCipher(app.keys)
    tasks: list[Awaitable[None]] = []
    if Job.FEED in jobs:

        async def feed() -> None:
            # Drain the backlog before sleeping.
            while await follow_feed_once(app.sessionmaker, app.backend, cipher):
                pass

        tasks.append(_every(config.feed_poll_seconds, feed, stop, Job.FEED))
    if Job.REMINDERS in jobs:

        async def reminders() -> None:
            await plan_reminders(app.sessionmaker, app.backend, app.keys)

        tasks.append(_every(config.reminder_poll_seconds, reminders, stop, Job.REMINDERS))
    if Job.WATCHES in jobs:
        notifier = OutboxSlotHitNotifier(app.sessionmaker)
        tasks.append(
            watch_loop(WatchEngine(app.sessionmaker, app.backend, app.keys, notifier), stop)
        )
    if Job.DELIVER in jobs:
        tasks.append(create_delivery(app).run(stop))
    await asyncio.gather(*tasks)
