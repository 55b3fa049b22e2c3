"""`make demo CHANNEL=max` as a person types it: the terminal chat over the MAX front end on
the sandbox — Start, buttons pressed by number, text sent, edits shown once, files saved."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.max_emulator.terminal import run_max_terminal_chat
from bot.settings import Settings
from max_channel.offline import offline_max_stack

pytestmark = pytest.mark.e2e


async def test_a_scripted_chat_in_the_terminal(
    e2e_settings: Settings, sandbox: SandboxBackend, sandbox_clock: FrozenClock, tmp_path: Path
) -> None:
    out = io.StringIO()

    async def result_published() -> str:
        return "published"

    async with offline_max_stack(e2e_settings, backend=sandbox, clock=sandbox_clock) as stack:
        user = stack.world.user(8001, "Анна", phone="+79990000001")
        await run_max_terminal_chat(
            user,
            files_dir=tmp_path / "files",
            extra_commands={"/result": result_published},
            input_lines=["/start", "2", "1", "/help", "99", "/result", "/quit", "never sent"],
            output=out,
        )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Chat with the bot (MAX).")
    assert "you: /start" in lines and "Выберите язык / Choose your language:" in out.getvalue()
    assert "  [notice] Language changed" in lines
    assert any(line.startswith("  (buttons removed from message") for line in lines)
    assert "Consent recorded. Choose what to do:" in out.getvalue()
    assert "[1] 📅 Book a doctor" in out.getvalue()
    assert "What this bot does" in out.getvalue()
    assert "  (no button 99; there are 1)" in lines  # the help has only "☰ Menu"
    assert "published" in lines
    assert "never sent" not in out.getvalue()
