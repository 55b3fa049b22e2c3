"""The fault suite's frame: the scripted users, a scenario's window (probes running while a
fault is injected), results published in the background, and the verdict per scenario.

The faults themselves are in faultkit/scenarios_*.py; `bench/faults.py` runs them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.clock import SystemClock
from faultkit import report
from faultkit.flows import link_own_card, onboard, probe_loop, quiet_hours_off
from faultkit.processes import Exit
from faultkit.sandbox import SandboxCli
from faultkit.topology import REPLICAS, WORKERS, Topology
from faultkit.users import Ledger, Persona, ScriptedUser

CLOCK = SystemClock()  # time.monotonic(), the same clock as the event loop's and the kit's
BASELINE = "baseline"
# Adults among the sandbox's demo personas: four probe the bot all along, one more links
# their card under a replica kill.
PROBERS = (0, 1, 2, 6)
LINKER = 7
FIRST_TELEGRAM_ID = 700_001


def say(text: str) -> None:
    """Progress, on stderr; the report itself goes to stdout at the end."""
    print(f"[{CLOCK.monotonic() - STARTED:6.1f}s] {text}", file=sys.stderr, flush=True)


STARTED = CLOCK.monotonic()


@dataclass
class Window:
    name: str
    start: float
    end: float = float("inf")
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    readyz: list[float] = field(default_factory=list)
    gesture: report.GestureCount | None = None  # presses made at once, judged by query id


class Suite:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.telegram = topology.telegram
        self.cli = SandboxCli(topology.sandbox_env(), topology.run_dir)
        self.ledger = Ledger()
        self.users: list[ScriptedUser] = []
        self.linker: ScriptedUser | None = None
        self.windows: list[Window] = []
        self.triggers: list[report.Trigger] = []
        self._trigger_tasks: set[asyncio.Task[None]] = set()
        self._next_result = 0

    # ----- set-up -----------------------------------------------------------------------

    async def set_up_users(self) -> None:
        personas = await self.cli.personas()
        if len(personas) <= max(*PROBERS, LINKER):
            raise RuntimeError(f"the sandbox has {len(personas)} personas, the suite needs more")
        chosen: list[Persona] = [personas[i] for i in PROBERS]
        for n, persona in enumerate(chosen, start=1):
            self.users.append(self._user(persona, n))
        self.linker = self._user(personas[LINKER], len(chosen) + 1)
        self.ledger.scenario = "setup"

        async def prober(user: ScriptedUser) -> None:
            await onboard(user)
            await link_own_card(user, self.cli)
            await quiet_hours_off(user)

        async def linker(user: ScriptedUser) -> None:
            await onboard(user)
            await quiet_hours_off(user)

        await asyncio.gather(*(prober(u) for u in self.users), linker(self.linker))

    def _user(self, persona: Persona, n: int) -> ScriptedUser:
        return ScriptedUser(
            self.telegram, self.ledger, persona, FIRST_TELEGRAM_ID + n, label=f"u{n}"
        )

    # ----- scenario frame ---------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def scenario(
        self, name: str, *, probing: bool = True, busy: tuple[ScriptedUser, ...] = ()
    ) -> AsyncIterator[Window]:
        """The users (but the `busy` ones, who act in the body) probe while the body injects
        its fault; each action is tagged `name`."""
        say(f"{name} ...")
        self.ledger.scenario = name
        window = Window(name, CLOCK.monotonic())
        self.windows.append(window)
        stop = asyncio.Event()
        probers = [u for u in self.users if u not in busy] if probing else []
        probes = [asyncio.create_task(probe_loop(u, stop)) for u in probers]
        try:
            yield window
        finally:
            stop.set()
            await asyncio.gather(*probes)
            window.end = CLOCK.monotonic()
            say(f"{name} done in {window.end - window.start:.1f}s")

    def publish_result(self, window: Window, user: ScriptedUser | None = None) -> None:
        """The laboratory publishes a result for `user` (by turns if None), in the background:
        the sandbox CLI writes the sandbox file, the workers find it in the backend's feed."""
        if user is None:
            user = self.users[self._next_result % len(self.users)]
            self._next_result += 1

        async def publish() -> None:
            try:
                entry = await self.cli.publish_result(user.persona.policy)
            except RuntimeError as error:
                window.failures.append(f"publish-result failed: {error}")
                return
            at = CLOCK.monotonic()  # the result exists from now on
            self.triggers.append(report.Trigger(window.name, user.chat_id, "result", at, entry))

        task = asyncio.create_task(publish())
        self._trigger_tasks.add(task)
        task.add_done_callback(self._trigger_tasks.discard)

    async def notifications_settled(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Every notification published so far delivered (or `timeout`)."""
        deadline = CLOCK.monotonic() + timeout
        while True:
            if self._trigger_tasks:
                await asyncio.gather(*self._trigger_tasks)
            if report.undelivered(self.triggers, self.telegram.calls) == 0:
                return True
            if CLOCK.monotonic() >= deadline:
                return False
            await self.telegram.wait_change(min(1.0, deadline - CLOCK.monotonic()))

    async def readyz(self, window: Window, replica: str) -> None:
        """How long `/readyz` takes to answer (whatever it says), measured into the window."""
        url = f"http://127.0.0.1:{self.topology.webhook_ports[replica]}/readyz"
        started = CLOCK.monotonic()
        status = "no answer"
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, timeout=aiohttp.ClientTimeout(total=15)) as answer,
            ):
                status = str(answer.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            status = type(error).__name__
        elapsed = CLOCK.monotonic() - started
        window.readyz.append(elapsed)
        window.notes.append(f"readyz {replica} {status} in {elapsed:.1f}s")

    async def restart(self, name: str, window: Window) -> None:
        process = self.topology.processes[name]
        await process.wait_exit(30)
        started = CLOCK.monotonic()
        try:
            await process.start(ready_timeout=60)
        except RuntimeError as error:
            window.failures.append(str(error))
            return
        say(f"  {name} back in {CLOCK.monotonic() - started:.1f}s")

    # ----- the verdict ------------------------------------------------------------------

    def dump(self, run_dir: Path) -> None:
        """What the users did and what the fake Telegram saw, one JSON object a line, to
        read a scenario that did not hold (`calls.jsonl` holds message texts: synthetic)."""
        for name, rows in (("actions", self.ledger.actions), ("calls", self.telegram.calls)):
            with (run_dir / f"{name}.jsonl").open("w", encoding="utf-8") as out:
                for row in rows:
                    out.write(json.dumps(dataclasses.asdict(row), ensure_ascii=False) + "\n")

    def tallies(self) -> list[report.Tally]:
        end = CLOCK.monotonic()
        calls = self.telegram.calls
        by_name = report.count_interactive(self.ledger.actions, calls, end, BASELINE)
        report.count_notifications(self.triggers, calls, by_name)
        exits = [
            e
            for name in (*WORKERS, *REPLICAS)
            for e in self.topology.processes[name].unexpected_exits
        ]
        ordered = []
        counted: set[Exit] = set()  # each exit in one scenario (two may overlap in time)
        for window in self.windows:
            tally = by_name.get(window.name) or report.Tally(window.name)
            tally.notes += window.notes
            tally.failures += window.failures
            if window.readyz:
                tally.readyz_s = max(window.readyz)
            if window.gesture is not None:
                tally.actions += window.gesture.presses
                tally.lost += window.gesture.lost
                tally.twice += window.gesture.twice
                tally.max_silence_s = max(tally.max_silence_s, window.gesture.max_silence_s)
            for event in exits:
                if window.start <= event.at < window.end + 5 and event not in counted:
                    counted.add(event)
                    if event.name in WORKERS:
                        tally.worker_exits += 1
                    else:
                        tally.replica_exits += 1
            ordered.append(tally)
        stray = [e for e in exits if e not in counted and e.name in WORKERS]
        if stray and ordered:
            ordered[-1].worker_exits += len(stray)
            ordered[-1].failures.append(f"{len(stray)} worker exit(s) between scenarios")
        setup = by_name.get("setup")
        if setup is not None and (setup.lost or setup.twice):
            ordered.append(setup)
        return ordered
