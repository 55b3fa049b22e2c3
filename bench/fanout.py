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
import os
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from fanoutkit.figures import Figures, TimedWorld, Window, print_figures  # noqa: E402
from fanoutkit.shared import CLOCK, FIRST_CHAT, MARK, TOKEN  # noqa: E402
from fanoutkit.store import Store, fill_outbox, open_rows, open_store  # noqa: E402
from fanoutkit.worker import run_worker  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.db.engine import create_engine, create_sessionmaker  # noqa: E402
from bot.db.notifications_models import OutboxMessage  # noqa: E402
from bot.emulator.rate_limit import RateLimits  # noqa: E402
from bot.emulator.server import EmulatorServer  # noqa: E402

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
                if match := MARK.search(message.text or ""):
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
