"""What the fan-out benchmark's parent and worker processes share: the bot token, the chats,
the lease, the text mark naming an outbox row, and the one clock."""

from __future__ import annotations

import re

from bot.clock import SystemClock

TOKEN = "4242:BENCH_TOKEN_abcdefghijklmnopqrstuvwxyz"
FIRST_CHAT = 700_000
LEASE_SECONDS = 5.0
MARK = re.compile(r"#(\d+)$")  # the row id at the end of a bench notification's text
CLOCK = SystemClock()
"""A benchmark runs in real time: the workers, the emulator's stamps and the deadlines all read
this one clock (its monotonic reading is comparable across processes on one machine)."""
