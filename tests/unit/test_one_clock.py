"""The one clock: nothing in the product reads the real time except `bot/clock.py`.

A service that reads the time on its own cannot be tested at a chosen instant, and a test that
passes at 10:00 fails at 06:45 (a visit "under two hours ahead"). So the bot, the worker, the
sandbox and the emulator all take the clock they are given; this test keeps it that way.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import Clock, FrozenClock, SystemClock, parse_instant
from bot.services.appointments.clock import MOSCOW

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "keyboards", "backend_client")
THE_CLOCK = ROOT / "bot" / "clock.py"

TIME_FUNCTIONS = {
    "time",
    "time_ns",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
    "process_time",
    "localtime",
    "gmtime",
    "ctime",
}
DATETIME_NOW = {"now", "utcnow", "today"}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def real_time_reads(source: str) -> list[str]:
    """Each place in `source` that reads the real time, as "line: what"."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            found += [f"{node.lineno}: from time import {a.name}" for a in node.names]
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner, attr = _name(node.func.value), node.func.attr
        if owner == "time" and attr in TIME_FUNCTIONS:
            found.append(f"{node.lineno}: time.{attr}()")
        elif owner in {"datetime", "date"} and attr in DATETIME_NOW:
            found.append(f"{node.lineno}: {owner}.{attr}()")
        elif attr == "time" and not node.args and owner in {"loop", "get_running_loop"}:
            found.append(f"{node.lineno}: the event loop's time()")
        elif owner == "func" and attr in {"now", "current_timestamp", "localtimestamp"}:
            found.append(f"{node.lineno}: the database's {attr}()")
    return found


def test_nothing_outside_the_clock_reads_the_real_time() -> None:
    offenders = {
        str(path.relative_to(ROOT)): reads
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != THE_CLOCK and (reads := real_time_reads(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_scan_finds_each_way_of_reading_the_time() -> None:
    source = "\n".join(
        [
            "import time, asyncio",
            "from datetime import datetime, date",
            "from time import monotonic",
            "a = datetime.now(UTC)",
            "b = date.today()",
            "c = time.monotonic()",
            "d = asyncio.get_running_loop().time()",
            "e = loop.time()",
            "f = func.now()",
            "g = moment.time()",  # a datetime's time of day: not a clock
            "h = clock()",
        ]
    )
    assert [line.split(":")[0] for line in real_time_reads(source)] == [
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
    ]


def test_the_clocks_keep_their_promises() -> None:
    start = parse_instant("2026-12-31T23:59:00+03:00")
    assert start == datetime(2026, 12, 31, 20, 59, tzinfo=UTC)
    assert parse_instant("2026-11-25T07:00:00") == datetime(2026, 11, 25, 7, tzinfo=UTC)
    frozen = FrozenClock(start)
    before = frozen.monotonic()
    assert frozen() == frozen.now() == start  # stands still until moved
    frozen.advance(minutes=2)
    assert frozen() == start + timedelta(minutes=2)
    assert frozen().astimezone(MOSCOW).date().isoformat() == "2027-01-01"  # a new year in Moscow
    assert frozen.monotonic() - before >= 120  # a lease or a rate window passes too
    system = SystemClock()
    assert isinstance(system, Clock) and isinstance(frozen, Clock)
    assert system().tzinfo is not None
