"""The fan-out benchmark's worker process: the real delivery loop against the emulator, with a
fixed text per row instead of the send-time check, timing when each row became safe."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import User
from bot.services.notifications.decisions import Decision, Send
from bot.services.notifications.delivery import DeliveryLoop
from bot.services.notifications.journal import NoJournal, RedisJournal, SentJournal
from bot.services.notifications.outbox import ClaimedMessage
from bot.services.notifications.pacing import Gate, MemoryGate, RedisGate
from bot.services.notifications.render import NotificationView
from bot.services.notifications.sending import Outcome, SendResult
from fanoutkit.shared import CLOCK, LEASE_SECONDS, TOKEN


class BenchPrepare:
    """Stands in for the send-time check: a fixed text naming the row, to the user's chat.

    The chats are read once (the real check reads the user, settings and grant per message;
    at Telegram's real 25-30 msg/s that is not what limits a worker)."""

    def __init__(self, chats: dict[int, int]) -> None:
        self.chats = chats

    async def __call__(self, session: AsyncSession, message: ClaimedMessage) -> Decision:
        text = f"Bench notification #{message.id}"
        return Send(self.chats[message.user_id], NotificationView(text))


async def run_worker(args: argparse.Namespace) -> None:
    from redis.asyncio import Redis

    from bot.notify_telegram import TelegramSender

    engine = create_engine(args.db)
    sessionmaker = create_sessionmaker(engine)
    redis = Redis.from_url(args.redis) if args.redis else None
    gate: Gate = (
        RedisGate(redis, args.prefix, args.rate)
        if redis is not None
        else MemoryGate(args.rate / args.workers, clock=CLOCK)
    )
    journal: SentJournal = (
        RedisJournal(redis, args.prefix, LEASE_SECONDS * 10) if redis is not None else NoJournal()
    )
    if args.no_journal:
        journal = NoJournal()
    bot = emulator_bot_for(args.api)
    async with sessionmaker() as db:
        rows = (await db.execute(select(User.id, User.telegram_id))).all()
        chats = {user_id: telegram_id for user_id, telegram_id in rows}
    sender = TelegramSender(bot)
    latencies: list[float] = []

    async def timed_send(chat_id: int, view: NotificationView) -> Any:
        started = CLOCK.monotonic()
        try:
            return await sender(chat_id, view)
        finally:
            latencies.append(CLOCK.monotonic() - started)

    loop = TimedLoop(
        sessionmaker,
        BenchPrepare(chats),
        timed_send,
        gate,
        clock=CLOCK,
        worker_id=f"bench-{os.getpid()}",
        concurrency=args.concurrency,
        lease_seconds=LEASE_SECONDS,
        idle_seconds=0.05,
        journal=journal,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await loop.run(stop)
        latencies.sort()
        median = latencies[len(latencies) // 2] * 1000 if latencies else 0.0
        print(f"worker {os.getpid()}: {loop.stats} send_p50_ms={median:.1f}", file=sys.stderr)
        if args.marks_dir:
            path = Path(args.marks_dir) / f"{os.getpid()}.json"
            path.write_text(json.dumps(loop.marks))
    finally:
        await bot.session.close()
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


class TimedLoop(DeliveryLoop):
    """Notes, per sent row, when the answer was in hand and when the row became safe from
    being sent again: its journal note written, or without a journal its database mark
    (monotonic clock, comparable across processes on one machine)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.marks: dict[int, tuple[float, float]] = {}
        self._journal_on = not isinstance(self.journal, NoJournal)
        self._noted: dict[int, float] = {}
        note = self.journal.note_sent

        async def timed_note(message_id: int) -> None:
            await note(message_id)
            self._noted[message_id] = CLOCK.monotonic()

        self.journal.note_sent = timed_note  # type: ignore[method-assign]

    async def _record(self, message: ClaimedMessage, result: SendResult) -> None:
        answered = CLOCK.monotonic()
        await super()._record(message, result)
        if result.outcome is Outcome.SENT:
            marked = CLOCK.monotonic()
            safe = self._noted.pop(message.id, marked) if self._journal_on else marked
            self.marks[message.id] = (answered, safe)


def emulator_bot_for(base_url: str) -> Any:
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode

    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url), limit=256)
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
