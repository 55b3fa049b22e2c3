"""The topology's processes, started and restarted as compose would (`restart: unless-stopped`).

Each process writes to its own log file. An exit the suite did not cause is recorded (a worker
that exits on an outage is a failure of the product) and the process is started again, so
the rest of the run still measures something. Every child gets SIGKILL if this process dies
(PR_SET_PDEATHSIG), and `ProcessSet.stop_all` ends them all on the way out, Ctrl+C included.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class Exit:
    name: str
    returncode: int
    at: float
    expected: bool


ReadyCheck = Callable[[], Awaitable[bool]]


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        cwd: Path,
        log_path: Path,
        ready: ReadyCheck | None = None,
        restart: bool = True,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.ready_check = ready
        self.restart = restart
        self.exits: list[Exit] = []
        self.starts = 0
        self._process: asyncio.subprocess.Process | None = None
        self._expect_exit = False
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def unexpected_exits(self) -> list[Exit]:
        return [e for e in self.exits if not e.expected]

    async def start(self, *, ready_timeout: float = 60.0) -> None:
        log = self.log_path.open("ab")
        try:
            log.write(f"\n=== start #{self.starts + 1} ===\n".encode())
            log.flush()
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl+C in the terminal reaches the suite only
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            log.close()
        self.starts += 1
        self._expect_exit = False
        self._watcher = asyncio.create_task(self._watch(self._process))
        if self.ready_check is not None:
            await self.wait_ready(ready_timeout)

    async def wait_ready(self, timeout: float) -> None:  # noqa: ASYNC109
        assert self.ready_check is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self.running:
                raise RuntimeError(f"{self.name} exited while starting; see {self.log_path}")
            with contextlib.suppress(Exception):
                if await self.ready_check():
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} was not ready after {timeout:g}s; see {self.log_path}")

    async def _watch(self, process: asyncio.subprocess.Process) -> None:
        returncode = await process.wait()
        loop = asyncio.get_running_loop()
        expected = self._expect_exit or self._stopping
        self.exits.append(Exit(self.name, returncode, loop.time(), expected))
        if not expected and self.restart and not self._stopping:
            # As compose's restart policy would; the exit itself stays on record.
            await asyncio.sleep(1.0)
            if not self._stopping and self._process is process:
                with contextlib.suppress(Exception):
                    await self.start()

    def send(self, sig: signal.Signals, *, expected: bool = True) -> None:
        """Signal the process; `expected`: the exit that follows is the suite's doing."""
        if self._process is None or self._process.returncode is not None:
            return
        self._expect_exit = expected
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._process.pid, sig)

    async def wait_exit(self, timeout: float) -> int | None:  # noqa: ASYNC109
        if self._process is None:
            return None
        try:
            return await asyncio.wait_for(self._process.wait(), timeout)
        except TimeoutError:
            return None

    async def stop(self, timeout: float = 25.0) -> None:  # noqa: ASYNC109
        """SIGTERM, then SIGKILL after `timeout` (the drain is 20 s)."""
        self._stopping = True
        if self.running:
            self.send(signal.SIGTERM)
            if await self.wait_exit(timeout) is None:
                self.send(signal.SIGKILL)
                await self.wait_exit(5)
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)

    def kill_now(self) -> None:
        """Synchronous last resort (an exception on the way out)."""
        self._stopping = True
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 20, *, grep: str | None = None) -> list[str]:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        rows = text.splitlines()
        if grep is not None:
            rows = [r for r in rows if grep in r]
        return rows[-lines:]


class ProcessSet:
    def __init__(self) -> None:
        self.processes: dict[str, ManagedProcess] = {}

    def add(self, process: ManagedProcess) -> ManagedProcess:
        self.processes[process.name] = process
        return process

    def __getitem__(self, name: str) -> ManagedProcess:
        return self.processes[name]

    async def stop_all(self, timeout: float = 25.0) -> None:  # noqa: ASYNC109
        await asyncio.gather(
            *(p.stop(timeout) for p in self.processes.values()), return_exceptions=True
        )

    def kill_all_now(self) -> None:
        for process in self.processes.values():
            process.kill_now()
