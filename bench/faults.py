"""The fault suite: the production topology as processes, a bad day injected, what users got.

    .venv/bin/python bench/faults.py            # about 5 minutes; exit code 1 on a failure

Runs what `docker-compose.yml` runs — `migrate`, the Records API (`sandbox serve`), two webhook
replicas (`run`), two workers (`worker`) — as processes on the local PostgreSQL and Redis
(`DATABASE_URL` / `REDIS_URL` name the servers; default 127.0.0.1:5432 and :6379), on a
database and a Redis key prefix of this run's own (created, then dropped). Every bot process
reaches PostgreSQL, Redis and the Records API through TCP proxies the suite can cut (the
service is gone: connections reset) or stall (a black hole: nothing flows, nothing fails), and
Telegram through a fake Telegram (the project's emulator) that delivers each update by webhook
to the replicas in turn, redelivers on anything but a 2xx, and can answer 429 / 500.

Scripted users do what people do: link their own card with the code from the sandbox SMS,
book a visit, open their visits and their medical record; the clinic publishes lab results
through the sandbox CLI, which the workers must deliver. Each fault:

- replica SIGKILL mid-update: a replica is killed the moment its "confirm the SMS code" call,
  then its "book this time" call, has left for the Records API;
- replica SIGTERM with updates in flight (the replica's backend slowed so they are);
- Redis, PostgreSQL and the Records API each cut, then stalled;
- worker SIGKILL while it is sending notifications;
- Telegram 429 / 500 bursts on replies, and on notifications;
- button presses faster than the flood limit (each must be answered, with words if dropped);
- `.env.example` copied as it is: the offline demo starts, answers /start and quits.

One line per fault, then the totals:

    faults: scenarios=N held=N lost=0 handled_twice=0 worker_exits=0 max_silence_s=S

"lost": an update the user got no visible answer to (not even "temporarily unavailable"), or
a notification never delivered; "handled twice": an answer sent twice for one update, or a
notification delivered twice; "max silence": the longest a user waited for the first answer.
A fault is held when nothing was lost or handled twice, no worker exited on its own, no user
waited more than 5 s, `/readyz` answered within 3 s and the scenario's own checks passed.
The exit code is 1 when anything was lost or handled twice or a worker exited.

The logs of every process stay in the run directory when a fault was not held (or with
--keep); otherwise it is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from faultkit import report  # noqa: E402
from faultkit.scenarios_processes import (  # noqa: E402
    replica_sigkill,
    replica_sigterm,
    worker_sigkill,
)
from faultkit.scenarios_services import baseline, config_as_shipped, outage  # noqa: E402
from faultkit.scenarios_telegram import (  # noqa: E402
    flood,
    telegram_notifications,
    telegram_replies,
)
from faultkit.suite import BASELINE, Suite, say  # noqa: E402
from faultkit.topology import REPLICAS, WORKERS, Services, Topology, Tuning  # noqa: E402

MAX_SILENCE_S = 5.0


async def gather(*jobs: Awaitable[None]) -> None:
    await asyncio.gather(*jobs)


async def run(args: argparse.Namespace) -> int:
    run_dir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="emk-faults-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    topology = Topology(run_dir, Services.from_env(os.environ), Tuning())
    failed = keep = True
    try:
        say(f"run directory {run_dir}; database and Redis prefix {topology.tag}")
        await topology.start()
        say("topology up: migrate, records, " + ", ".join((*REPLICAS, *WORKERS)))
        suite = Suite(topology)
        await suite.set_up_users()
        say(f"{len(suite.users) + 1} users on board, {len(suite.users)} cards linked")
        await baseline(suite)
        scenarios: list[Callable[[], Awaitable[None]]] = [
            partial(replica_sigkill, suite),
            partial(replica_sigterm, suite),
        ]
        for group in (topology.redis, topology.pg, topology.records):
            scenarios.append(partial(outage, suite, group, "cut", args.cut_s))
            scenarios.append(partial(outage, suite, group, "stall", args.stall_s))
        scenarios += [
            partial(worker_sigkill, suite),
            partial(telegram_replies, suite, 429, 3),
            partial(telegram_replies, suite, 500, 3),
            partial(flood, suite),
            # The shipped configuration is checked while the workers retry (mostly waiting).
            lambda: gather(telegram_notifications(suite), config_as_shipped(suite)),
        ]
        only = set(args.only.split(",")) if args.only else None
        for index, scenario in enumerate(scenarios):
            if only is None or str(index + 1) in only:
                await scenario()
        if not await suite.notifications_settled(30):
            say("some notifications were never delivered")
        tallies = suite.tallies()
        failed = print_report(tallies, args)
        keep = args.keep or not all(t.held(MAX_SILENCE_S) for t in tallies)
        if keep:
            suite.dump(run_dir)
    finally:
        say("stopping the topology")
        await topology.stop()
        if keep:
            say(f"the processes' logs are in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    return 1 if failed else 0


def print_report(tallies: list[report.Tally], args: argparse.Namespace) -> bool:
    """Prints every line; True when the run failed (lost, twice or a worker exit)."""
    faults = [t for t in tallies if t.scenario not in (BASELINE, "setup")]
    if args.cut_s < 30 or args.stall_s < 30:
        print(
            f"note: cuts last {args.cut_s:g} s and stalls {args.stall_s:g} s "
            "(shorter than the 30 s issue 12 asks for)"
        )
    for tally in tallies:
        text = report.line(tally, MAX_SILENCE_S)
        print(text.replace("fault ", "", 1) if tally.scenario == BASELINE else text)
    lost = sum(t.lost_total for t in tallies)
    twice = sum(t.twice_total for t in tallies)
    worker_exits = sum(t.worker_exits for t in tallies)
    held = sum(1 for t in faults if t.held(MAX_SILENCE_S))
    silence = max((t.max_silence_s for t in tallies), default=0.0)
    print(
        f"faults: scenarios={len(faults)} held={held} lost={lost} handled_twice={twice} "
        f"worker_exits={worker_exits} max_silence_s={silence:.1f}",
        flush=True,
    )
    return bool(lost or twice or worker_exits)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cut-s", type=float, default=30.0, help="how long a cut lasts")
    parser.add_argument("--stall-s", type=float, default=30.0, help="how long a stall lasts")
    parser.add_argument("--only", help="comma-separated scenario numbers (1-13), for debugging")
    parser.add_argument("--dir", help="run directory (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the run directory and logs")
    args = parser.parse_args()
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
