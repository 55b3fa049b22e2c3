"""The README's `make demo` transcript, from a real run: the demo's own pieces (the offline
Telegram emulator, the real bot, the sandbox, the terminal chat) driven by the keystrokes a
person types — linking their own card, then their mother's with the code from her SMS — on a
frozen clock, so the same run prints the same transcript.

    .venv/bin/python -m bot.demo_transcript           # print it
    .venv/bin/python -m bot.demo_transcript --write   # put it into README.md

`tests/e2e/test_readme_transcript_e2e.py` fails when the README's copy is not what a run prints
(a text changed, the sandbox's personas changed): regenerate it with `--write`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox import admin as sandbox_admin
from backend_client.sandbox.testing import code_from_sms
from bot.clock import FrozenClock
from bot.emulator import EmulatorWorld
from bot.emulator.clock import Clock as EmulatorClock
from bot.emulator.terminal import run_terminal_chat
from bot.offline import offline_stack
from bot.settings import Settings, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- demo transcript: start -->", "<!-- demo transcript: end -->"
AT = datetime(2026, 11, 23, 20, 50, tzinfo=UTC)  # a Monday evening, Moscow 23:50
USER_ID = 700_001


def _settings(base: Settings, var: Path) -> Settings:
    database = base.database.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{var / 'bot.sqlite3'}"}
    )
    backend = base.backend.model_copy(update={"sandbox_path": var / "sandbox.sqlite3"})
    app = base.app.model_copy(update={"var_dir": var, "default_locale": "ru"})
    return base.model_copy(update={"database": database, "backend": backend, "app": app})


async def transcript(base: Settings | None = None) -> str:
    """One run of the demo's chat, as the terminal shows it."""
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        settings = _settings(base or load_settings(), var)
        clock = FrozenClock(AT)
        path, seed = settings.backend.sandbox_path, settings.backend.sandbox_seed
        backend = await SandboxBackend.open(
            path, seed=seed, clock=clock, one_visit_per_specialty=True
        )
        out = io.StringIO()
        try:
            personas = await backend.personas()
            me = personas[0]
            mother = next(p for p in personas if p.key == "elderly_mother")

            async def code_for(phone: str) -> str:
                sent = await backend.sms_outbox(phone, 1)
                if not sent:
                    raise RuntimeError("no SMS was sent:\n" + out.getvalue())
                return code_from_sms(sent[0].text)

            async def typed() -> AsyncIterator[str]:
                for line in ("/start", "1", "1", "👨‍👩‍👧 Мои люди", "1", "/share"):
                    yield line
                yield me.policy
                yield f"{me.birth_date:%d.%m.%Y}"
                yield "/sms"
                yield await code_for(me.phone)
                clock.advance(minutes=2)  # she reads her SMS, then goes on
                for line in ("👨‍👩‍👧 Мои люди", "2", "Мама"):
                    yield line
                yield mother.policy
                yield f"{mother.birth_date:%d.%m.%Y}"
                for line in ("2", "2", "/sms"):
                    yield line
                yield await code_for(mother.phone)

            async def keystrokes() -> AsyncIterator[str]:
                async for line in typed():
                    clock.advance(seconds=5)  # a person reads, then types: never a flood
                    yield line

            async def show_sms() -> str:
                return await sandbox_admin.sms_text(path, limit=1, seed=seed, clock=clock)

            world = EmulatorWorld(clock=EmulatorClock(clock))
            async with offline_stack(settings, backend=backend, world=world, clock=clock) as stack:
                user = stack.world.user(USER_ID, "Анна", language_code="ru", phone=me.phone)
                await run_terminal_chat(
                    stack.world,
                    user,
                    files_dir=var / "files",
                    phone=me.phone,
                    extra_commands={"/sms": show_sms},
                    input_lines=keystrokes(),
                    output=out,
                )
        finally:
            await backend.aclose()
    lines = out.getvalue().splitlines()[1:]  # the chat's own help line is not the demo's
    return "\n".join(lines) + "\n"


def readme_block(text: str) -> str:
    """The README's transcript between its markers."""
    start, end = text.index(START) + len(START), text.index(END)
    block = text[start:end].strip("\n")
    return block.removeprefix("```text\n").removesuffix("\n```") + "\n"


def write_readme(chat: str) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(START) + len(START), text.index(END)
    README.write_text(text[:start] + "\n```text\n" + chat + "```\n" + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.demo_transcript", description=__doc__)
    parser.add_argument("--write", action="store_true", help="put it into README.md")
    args = parser.parse_args(argv)
    chat = asyncio.run(transcript())
    if args.write:
        write_readme(chat)
    else:
        sys.stdout.write(chat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
