"""Seeded sandboxes for every suite: one template per (seed, moment) and test session, a copy of
it per test.

Seeding writes thousands of rows (a second or two); copying the file takes milliseconds. A suite
asks the session fixture ``sandbox_templates`` (tests/conftest.py) for its template and opens its
own copy with ``open_sandbox``:

* the contract tests (tests/backend) seed 42 at ``FIXED_NOW``: the same data on any real date;
* the flows through the dispatcher (tests/unit) and the e2e tests seed at ``TEST_NOW``, the
  frozen instant the bot's clock starts at in every test (``EMK_TEST_NOW`` chooses it: `.ci/run`
  runs the time-sensitive suites at a New Year's Eve minute, a Saturday at a month's end and a
  weekday morning). Policies, records and appointments share seed 7; notifications and e2e 42.

Which doctor has a free time, and on which days, depends on the moment a test runs (a fully
booked doctor, weekends, the last evening of the month or of the window): a test that books asks
``free_times`` instead of assuming the first doctor's first calendar page has a free day.

A test that needs a particular moment (noon, a weekday, outside quiet hours) moves its
``FrozenClock``: the bot, the worker and the sandbox all read that one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from backend_client.models import Slot
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.clock import Clock
from backend_client.sandbox.simulation import Persona
from backend_client.sandbox.testing import FIXED_NOW, code_from_sms, copy_template, seed_template
from bot.clock import FrozenClock, parse_instant
from bot.services.appointments import calendar
from bot.services.appointments.clock import msk_date

DEFAULT_TEST_NOW = "2026-11-25T10:00:00+03:00"
"""A Wednesday, 10:00 in Moscow: the instant tests run at unless ``EMK_TEST_NOW`` says another."""

TEST_NOW = parse_instant(os.environ.get("EMK_TEST_NOW") or DEFAULT_TEST_NOW).astimezone(UTC)
"""The frozen "now" of every test: the bot's clock starts here and the sandboxes are seeded here,
so a test means the same thing whenever it runs."""


def frozen_clock() -> FrozenClock:
    """A new clock at ``TEST_NOW`` for one test (the bot, its worker and the sandbox share it)."""
    return FrozenClock(TEST_NOW)


FLOW_SEED = 7
"""The seed of the dispatcher flows (policies, records, appointments)."""


async def persona(sandbox: SandboxBackend, key: str) -> Persona:
    """One of the sandbox's ready-made people ("mother", "elderly_mother", "single", ...)."""
    return next(p for p in await sandbox.personas() if p.key == key)


async def code_sent_to(sandbox: SandboxBackend, phone: str) -> str:
    """The newest one-time code on the owner's phone, read as the owner reads an SMS."""
    for sms in await sandbox.sms_outbox(phone):  # newest first
        with contextlib.suppress(ValueError):  # an SMS without a code
            return code_from_sms(sms.text)
    raise AssertionError("no code was sent to this phone")


class SandboxTemplates:
    """Seeds each (seed, now) once into a file of this session and returns its path."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._made: dict[tuple[int, datetime], Path] = {}

    def __call__(self, *, seed: int = 42, now: datetime = FIXED_NOW) -> Path:
        key = (seed, now)
        if key not in self._made:
            path = self._tmp.mktemp(f"sandbox-seed{seed}") / "template.sqlite3"
            # In a thread of its own: a fixture may ask while a test's event loop is running.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, seed_template(path, seed=seed, now=now)).result()
            self._made[key] = path
        return self._made[key]


@asynccontextmanager
async def open_sandbox(
    template: Path, tmp_path: Path, clock: Clock, name: str = "sandbox.sqlite3"
) -> AsyncIterator[SandboxBackend]:
    """A fresh copy of ``template`` in ``tmp_path``, open on ``clock``; closed afterwards."""
    sandbox = await SandboxBackend.open(copy_template(template, tmp_path / name), clock=clock)
    try:
        yield sandbox
    finally:
        await sandbox.aclose()


async def free_times(
    sandbox: SandboxBackend, doctor_id: str, now: datetime, from_day: date | None = None
) -> list[Slot]:
    """The doctor's free times the bot would offer at ``now`` (its 14-day window of Moscow days
    from today, strictly after ``now``), on ``from_day`` or later if given."""
    start, end = calendar.window(msk_date(now))
    slots = await sandbox.search_free_slots(doctor_id=doctor_id, date_from=start, date_to=end)
    first = from_day or start
    return [s for s in slots if s.starts_at > now and msk_date(s.starts_at) >= first]


async def free_a_time(
    sandbox: SandboxBackend, doctor_id: str, now: datetime, from_day: date | None = None
) -> Slot:
    """Free an outsider's slot of the doctor in the window (as a clinic would) and return it:
    for the rare moment when no doctor on offer has a free time at all."""
    for slot_id in await sandbox.taken_slots(doctor_id, 500):
        await sandbox.free_slot(slot_id)
        found = [
            s for s in await free_times(sandbox, doctor_id, now, from_day) if s.slot_id == slot_id
        ]
        if found:
            return found[0]
    raise AssertionError(f"doctor {doctor_id} has no time in the window to free")
