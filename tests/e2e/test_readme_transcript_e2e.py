"""The README's `make demo` transcript is what a real run prints (issue 14, 12: its birth date
was not the persona's). Regenerate with `python -m bot.demo_transcript --write`."""

from __future__ import annotations

import re

import pytest

from bot.demo_transcript import README, readme_block, transcript
from bot.settings import Settings

pytestmark = pytest.mark.e2e

CODE = re.compile(r"\b\d{6}\b")  # the one-time codes are new on every run


async def test_the_readme_transcript_is_a_real_run(settings: Settings) -> None:
    printed = await transcript(settings)
    kept = readme_block(README.read_text(encoding="utf-8"))
    assert CODE.sub("<code>", kept) == CODE.sub("<code>", printed)
    assert "you: 04.10.1988" in printed  # the persona's own birth date, typed and accepted
