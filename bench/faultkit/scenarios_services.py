"""The fault suite's service faults: the healthy baseline, Redis / PostgreSQL / the Records
API cut or stalled, and the shipped `.env.example` started as the offline demo."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys

from faultkit.proxy import ProxyGroup
from faultkit.suite import BASELINE, CLOCK, Suite, Window
from faultkit.topology import REPLICAS, ROOT


async def baseline(suite: Suite) -> None:
    """A healthy system: how many messages each probe gets (the handled-twice yardstick)."""
    async with suite.scenario(BASELINE) as window:
        suite.publish_result(window)
        await asyncio.sleep(4)
        await suite.notifications_settled(20)


async def outage(suite: Suite, group: ProxyGroup, mode: str, seconds: float) -> None:
    """A service cut or stalled for `seconds` while the users go on and a result comes."""
    async with suite.scenario(f"{group.service}-{mode}-{seconds:g}s") as window:
        await asyncio.sleep(1.5)
        if mode == "cut":
            group.cut()
        else:
            group.stall()
        checks = [suite.readyz(window, r) for r in REPLICAS]
        publish_in = min(3.0, seconds / 3)
        await asyncio.sleep(publish_in)
        suite.publish_result(window)
        await asyncio.gather(*checks, asyncio.sleep(seconds - publish_in))
        group.heal()
        await asyncio.sleep(3)  # the users go on after the heal
        if not await suite.notifications_settled(25):
            window.notes.append("a notification still undelivered 25 s after the heal")


async def config_as_shipped(suite: Suite) -> None:
    """`cp .env.example .env && make demo`: the demo starts with the file as shipped (empty
    values mean unset), answers /start, and leaves on /quit without a traceback."""
    window = Window("config-as-shipped", CLOCK.monotonic())
    suite.windows.append(window)
    place = suite.topology.run_dir / "as-shipped"
    place.mkdir(exist_ok=True)
    shutil.copy(ROOT / ".env.example", place / ".env")
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env["PYTHONPATH"] = str(ROOT)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        cwd=place,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(b"/start\n/quit\n"), 120)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        window.failures.append("the demo did not finish in 120 s")
    text = (out + err).decode(errors="replace")
    answered = "bot (" in text
    window.notes.append(
        f"demo with .env.example: exit={process.returncode} answered /start={answered}"
    )
    if process.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        window.failures.append(f"the demo exited with {process.returncode}: {last[0][:120]}")
    if not answered:
        window.failures.append("the demo's bot did not answer /start")
    if "Traceback" in text:
        window.failures.append("a traceback")
    window.end = CLOCK.monotonic()
