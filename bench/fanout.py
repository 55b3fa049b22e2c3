"""Fan-out of notifications through the offline Telegram emulator, with real worker processes.

    .venv/bin/python bench/fanout.py [--messages 10000] [--rate 300] [--workers 2]

The emulator runs in this process with Telegram's flood limits switched on (the global limit
set to ``--rate``, about one message a second per chat). The outbox is filled with
``--messages`` notifications to ``--chats`` users, and ``--workers`` separate processes run the
real delivery loop (claims with leases, the shared token bucket, per-chat pacing, 429/403
handling) against one database: PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set (a
fresh database and key prefix, dropped afterwards), else SQLite with an in-memory bucket per
worker (each gets rate / workers). The send-time check is replaced by a fixed text naming the
outbox row, so the emulator can tell lost and doubled messages apart.

Two runs: a clean one, and one where a worker is killed with SIGKILL midway (its leased rows
are picked up by the survivor when the lease expires). Each prints

    fanout: rate_ratio=0.97 lost=0 twice=0 http429=3 workers=2 killed=0

Targets: rate_ratio >= 0.95, lost = 0, twice = 0. Delivery is at-least-once: a worker killed
after Telegram accepted a message and before it had the answer leaves a row that is sent again
(Telegram has no idempotency key). The Redis sent journal closes the rest of the window (the
database mark); each run also prints the measured window and the number of rows a SIGKILL at a
random instant would double (about 0.3-0.4 here at 150 msg/s a worker; 1.5 with
``--no-journal``, the baseline), so ``twice`` is a figure with a known expectation, not luck.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import SystemClock
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import User
from bot.db.notifications_models import OutboxMessage
from bot.emulator.rate_limit import RateLimits
from bot.emulator.server import EmulatorServer
from bot.emulator.world import EmulatorWorld
from bot.services.notifications.decisions import Decision, Send
from bot.services.notifications.delivery import DeliveryLoop, Outcome, SendResult
from bot.services.notifications.journal import NoJournal, RedisJournal, SentJournal
from bot.services.notifications.outbox import ClaimedMessage, Status
from bot.services.notifications.pacing import Gate, MemoryGate, RedisGate
from bot.services.notifications.render import NotificationView

TOKEN = "4242:BENCH_TOKEN_abcdefghijklmnopqrstuvwxyz"
FIRST_CHAT = 700_000
LEASE_SECONDS = 5.0
_MARK = re.compile(r"#(\d+)$")
CLOCK = SystemClock()
"""A benchmark runs in real time: the workers, the emulator's stamps and the deadlines all read
this one clock (its monotonic reading is comparable across processes on one machine)."""


# --- the worker process -----------------------------------------------------------------------


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


# --- the parent: emulator, data, processes, figures -------------------------------------------


class TimedWorld(EmulatorWorld):
    """Remembers when each bot message was accepted (for the achieved rate)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accepted_at: list[float] = []
        self.row_accepted_at: dict[int, float] = {}

    def add_message(self, chat: Any, *, from_bot: bool, **fields: Any) -> Any:
        if from_bot:
            now = CLOCK.monotonic()
            self.accepted_at.append(now)
            if match := _MARK.search(str(fields.get("text") or "")):
                self.row_accepted_at.setdefault(int(match.group(1)), now)
        return super().add_message(chat, from_bot=from_bot, **fields)


@dataclass
class Window:
    """The at-least-once window, measured: for each sent row, from the emulator accepting it
    to the worker having the answer, and to the row being safe from a second send (its
    journal note, or its database mark when there is no journal). A SIGKILL at a
    random instant doubles every row whose window contains that instant, so the expected
    number of rows sent twice is the windows' total length over the run's length (per worker:
    one worker is killed)."""

    rows: int
    answer_p50_ms: float
    answer_p99_ms: float
    mark_p50_ms: float
    mark_p99_ms: float
    expected_twice: float

    @classmethod
    def measure(cls, accepted: dict[int, float], marks_dir: Path, seconds: float) -> Window:
        answer: list[float] = []
        durable: list[float] = []
        files = sorted(marks_dir.glob("*.json"))
        for path in files:
            for row, (answered, marked) in json.loads(path.read_text()).items():
                if (at := accepted.get(int(row))) is not None:
                    answer.append(answered - at)
                    durable.append(marked - at)
        if not durable or seconds <= 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        answer.sort()
        durable.sort()

        def pct(values: list[float], q: float) -> float:
            return values[min(len(values) - 1, int(q * len(values)))] * 1000

        return cls(
            rows=len(durable),
            answer_p50_ms=pct(answer, 0.5),
            answer_p99_ms=pct(answer, 0.99),
            mark_p50_ms=pct(durable, 0.5),
            mark_p99_ms=pct(durable, 0.99),
            expected_twice=sum(durable) / seconds / len(files),
        )


@dataclass
class Figures:
    window: Window
    rate_ratio: float
    lost: int
    twice: int
    http429: int
    workers: int
    killed: int
    seconds: float

    def line(self) -> str:
        return (
            f"fanout: rate_ratio={self.rate_ratio:.2f} lost={self.lost} twice={self.twice} "
            f"http429={self.http429} workers={self.workers} killed={self.killed}"
        )


@dataclass
class Store:
    """Where the run keeps its outbox: a fresh PostgreSQL database or a SQLite file."""

    url: str
    redis: str | None
    prefix: str
    cleanup: list[Any]


async def open_store(tmp: Path) -> Store:
    from bot.db.migrate import upgrade
    from bot.settings import DatabaseSettings

    prefix = f"emk_bench_{secrets.token_hex(4)}"
    server = os.environ.get("DATABASE_URL")
    cleanup: list[Any] = []
    if server and DatabaseSettings(database_url=server).database_url.startswith("postgresql"):
        import asyncpg  # type: ignore[import-untyped]

        url = make_url(DatabaseSettings(database_url=server).database_url)
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(plain)
        await connection.execute(f'CREATE DATABASE "{prefix}"')
        await connection.close()

        async def drop() -> None:
            connection = await asyncpg.connect(plain)
            await connection.execute(f'DROP DATABASE IF EXISTS "{prefix}" WITH (FORCE)')
            await connection.close()

        cleanup.append(drop)
        database = url.set(database=prefix).render_as_string(hide_password=False)
    else:
        database = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    await asyncio.to_thread(upgrade, database)
    redis_url = os.environ.get("REDIS_URL") or None
    if redis_url:
        from redis.asyncio import Redis

        async def forget_keys() -> None:
            client = Redis.from_url(redis_url)
            keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()

        cleanup.append(forget_keys)
    return Store(database, redis_url, prefix, cleanup)


async def fill_outbox(url: str, messages: int, chats: int) -> None:
    """`chats` users; messages go round-robin over them, so each chat gets a few, spread out."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    now = CLOCK()
    async with sessionmaker() as db:
        await db.execute(
            insert(User),
            [
                {"telegram_id": FIRST_CHAT + n, "created_at": now, "last_seen_at": now}
                for n in range(chats)
            ],
        )
        ids = list(await db.scalars(select(User.id).order_by(User.id)))
        rows = [
            {
                "user_id": ids[n % chats],
                "dedup_key": f"bench:{n}",
                "kind": "result_ready",
                "payload": "{}",
                "priority": 1,
                "status": Status.PENDING,
                "not_before": now,
                "attempts": 0,
                "created_at": now,
            }
            for n in range(messages)
        ]
        for start in range(0, len(rows), 2000):
            await db.execute(insert(OutboxMessage), rows[start : start + 2000])
        await db.commit()
    await engine.dispose()


async def open_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as db:
            count = await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_((Status.PENDING, Status.CLAIMED)))
            )
            return int(count or 0)
    finally:
        await engine.dispose()


SCRIPT = str(Path(__file__).resolve())


async def spawn(
    args: argparse.Namespace, store: Store, api: str, marks_dir: str
) -> asyncio.subprocess.Process:
    command = [
        sys.executable,
        SCRIPT,
        "--worker",
        "--db",
        store.url,
        "--prefix",
        store.prefix,
        "--api",
        api,
        "--rate",
        str(args.rate),
        "--workers",
        str(args.workers),
        "--concurrency",
        str(args.concurrency),
    ]
    if store.redis:
        command += ["--redis", store.redis]
    if marks_dir:
        command += ["--marks-dir", marks_dir]
    if args.no_journal:
        command += ["--no-journal"]
    return await asyncio.create_subprocess_exec(*command)


async def one_run(args: argparse.Namespace, *, kill: bool) -> Figures:
    with tempfile.TemporaryDirectory(prefix="emk-fanout-") as tmp:
        store = await open_store(Path(tmp))
        try:
            return await _drive(args, store, kill=kill, marks_dir=tmp)
        finally:
            for step in store.cleanup:
                await step()


async def _drive(args: argparse.Namespace, store: Store, *, kill: bool, marks_dir: str) -> Figures:
    await fill_outbox(store.url, args.messages, args.chats)
    world = TimedWorld(bot_token=TOKEN, quiet_period=0.05)
    for n in range(args.chats):
        world.user(FIRST_CHAT + n, f"U{n}").record.started = True
    world.set_rate_limits(
        RateLimits(
            enabled=True,
            per_chat_per_second=1.0,
            per_chat_burst=3,
            global_per_second=args.rate,
            # A second's worth: a clump of requests that left the workers evenly paced but
            # arrive together (a busy machine) is what Telegram tolerates too.
            global_burst=max(1, int(args.rate)),
        )
    )
    async with EmulatorServer(world) as server:
        workers = [
            await spawn(args, store, server.base_url, marks_dir) for _ in range(args.workers)
        ]
        killed = 0
        deadline = CLOCK.monotonic() + args.messages / args.rate * 3 + 60
        try:
            while CLOCK.monotonic() < deadline:
                await asyncio.sleep(0.2)
                if kill and not killed and len(world.accepted_at) >= args.messages * 0.4:
                    workers[0].send_signal(signal.SIGKILL)
                    killed = 1
                if len(world.accepted_at) >= args.messages * 0.9 and not await open_rows(store.url):
                    break
        finally:
            for process in workers:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(signal.SIGTERM)
            await asyncio.gather(*(p.wait() for p in workers))
        delivered: Counter[int] = Counter()
        for chat in world.chats.values():
            for message in chat.bot_messages():
                if match := _MARK.search(message.text or ""):
                    delivered[int(match.group(1))] += 1
        engine = create_engine(store.url)
        async with create_sessionmaker(engine)() as db:
            all_ids = set(await db.scalars(select(OutboxMessage.id)))
        await engine.dispose()
        stamps = world.accepted_at
        seconds = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
        achieved = (len(stamps) - 1) / seconds if seconds > 0 else 0.0
        window = Window.measure(world.row_accepted_at, Path(marks_dir), seconds)
        return Figures(
            window=window,
            rate_ratio=achieved / args.rate,
            lost=len(all_ids - set(delivered)),
            twice=sum(1 for count in delivered.values() if count > 1),
            http429=world.stats.too_many_requests,
            workers=args.workers,
            killed=killed,
            seconds=seconds,
        )


def print_figures(title: str, figures: Figures, rate: float, messages: int) -> None:
    print(f"--- {title}")
    print(
        f"{messages} messages in {figures.seconds:.1f} s: "
        f"{figures.rate_ratio * rate:.0f} msg/s of {rate:.0f} configured "
        f"(ratio {figures.rate_ratio:.3f}, target >= 0.95)"
    )
    print(f"429 received: {figures.http429}; lost: {figures.lost} (target 0); ", end="")
    print(f"sent twice: {figures.twice} (target 0)")
    w = figures.window
    if w.rows:
        print(
            f"at-least-once window over {w.rows} rows: Telegram accepted -> answer in hand "
            f"p50={w.answer_p50_ms:.1f}ms p99={w.answer_p99_ms:.1f}ms; -> safe from resending "
            f"p50={w.mark_p50_ms:.1f}ms p99={w.mark_p99_ms:.1f}ms; expected sent-twice for "
            f"one SIGKILL at a random instant: {w.expected_twice:.2f}"
        )
    print(figures.line(), flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=300.0, help="global msg/s (both sides)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chats", type=int, default=0, help="default: messages / 5, >= 2 x rate")
    parser.add_argument("--concurrency", type=int, default=16, help="sends in flight per worker")
    parser.add_argument("--only", choices=("clean", "kill"), help="run just one of the two runs")
    parser.add_argument(
        "--no-journal", action="store_true", help="baseline: no sent journal (marks in the DB only)"
    )
    # The worker processes' own options.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--marks-dir", help=argparse.SUPPRESS)
    return parser


async def main_async(args: argparse.Namespace) -> list[Figures]:
    # Enough chats that the per-chat limit (1/s) is not what bounds the global rate.
    args.chats = args.chats or min(args.messages, max(args.messages // 5, int(args.rate * 2)))
    backend = "PostgreSQL + Redis" if os.environ.get("DATABASE_URL") else "SQLite"
    print(
        f"fanout bench: {args.messages} messages, {args.chats} chats, {args.workers} workers, "
        f"{args.rate:.0f} msg/s, {backend}"
    )
    results = []
    for kill in (False, True):
        if args.only and args.only != ("kill" if kill else "clean"):
            continue
        figures = await one_run(args, kill=kill)
        title = "one worker killed with SIGKILL midway" if kill else "all workers run to the end"
        print_figures(title, figures, args.rate, args.messages)
        results.append(figures)
    return results


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        asyncio.run(run_worker(args))
        return 0
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
