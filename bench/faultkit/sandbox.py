"""The clinic's side and the owner's phone, through `python -m bot sandbox ...` (the same CLI a
developer uses): personas, the SMS outbox, a published lab result, a clinic cancellation.

These write to the sandbox file directly, not through the Records API, so they work while the
suite has the API cut: the clinic does not stop because the bot cannot reach it.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from faultkit.users import Persona

_PERSONA = re.compile(
    r"^• (?P<name>.+?) — .*\n\s+полис (?P<policy>\d{16}), дата рождения (?P<birth>[\d.]{10}), "
    r"телефон (?P<phone>\+\d+)",
    re.MULTILINE,
)
_ENTRY = re.compile(r"entry_id=(\S+)")
_CODE = re.compile(r"\b(\d{6})\b")
_VISIT = re.compile(
    r"^(?P<id>\S+)\s+(?P<when>[\d.]+ [\d:]+)\s+.*\[(?P<status>\w+)\]\s*$", re.MULTILINE
)


class SandboxCli:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.calls = 0

    async def run(self, *args: str, timeout: float = 60.0) -> str:  # noqa: ASYNC109
        self.calls += 1
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "sandbox",
            *args,
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise RuntimeError(f"sandbox {args[0]} did not finish in {timeout:g}s") from None
        if process.returncode != 0:
            raise RuntimeError(f"sandbox {args[0]} failed: {err.decode(errors='replace')[-300:]}")
        return out.decode()

    async def personas(self) -> list[Persona]:
        text = await self.run("personas")
        return [
            Persona(m["name"].split()[1], m["policy"], m["birth"], m["phone"])
            for m in _PERSONA.finditer(text)
        ]

    async def code_for(self, phone: str) -> str:
        text = await self.run("sms", "--phone", phone, "--last", "1")
        found = _CODE.search(text.split("→", 1)[-1])
        if found is None:
            raise RuntimeError("no code in the newest SMS to this phone")
        return found.group(1)

    async def publish_result(self, policy: str) -> str:
        """A new lab result for the patient; returns its entry id."""
        text = await self.run("publish-result", "--policy", policy)
        found = _ENTRY.search(text)
        if found is None:
            raise RuntimeError(f"publish-result: {text.strip()[:100]}")
        return found.group(1)

    async def upcoming_visits(self, policy: str) -> list[str]:
        text = await self.run("appointments", "--policy", policy)
        return [m["id"] for m in _VISIT.finditer(text) if m["status"] in ("booked", "scheduled")]

    async def clinic_cancel(self, appointment_id: str) -> bool:
        text = await self.run("clinic-cancel", "--appointment", appointment_id)
        return "Не получилось" not in text
