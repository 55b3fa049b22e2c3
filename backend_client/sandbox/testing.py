"""Helpers for tests: seed once into a template file, copy it per test (copying beats seeding).

template = seed_template_sync(tmp_dir / "template.sqlite3", now=FIXED_NOW)
path = copy_template(template, tmp_path / "sandbox.sqlite3")
backend = await SandboxBackend.open(path, clock=ManualClock(FIXED_NOW))
"""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from backend_client.sandbox.backend import SandboxBackend
from backend_client.sandbox.clock import ManualClock

FIXED_NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
"""A Monday, 10:00 in Moscow: tests seeded at this moment see the same data on any real date."""

_CODE = re.compile(r"Код (\d{6})")


async def seed_template(path: Path, *, seed: int = 42, now: datetime = FIXED_NOW) -> Path:
    backend = await SandboxBackend.open(path, seed=seed, clock=ManualClock(now))
    await backend.aclose()  # closing checkpoints the WAL into the main file
    return path


def seed_template_sync(path: Path, *, seed: int = 42, now: datetime = FIXED_NOW) -> Path:
    """For session-scoped (synchronous) pytest fixtures."""
    return asyncio.run(seed_template(path, seed=seed, now=now))


def copy_template(template: Path, dest: Path) -> Path:
    shutil.copyfile(template, dest)
    return dest


def code_from_sms(text: str) -> str:
    """The one-time code inside a sandbox SMS text."""
    found = _CODE.search(text)
    if found is None:
        raise ValueError("no code in this message")
    return found.group(1)
