"""The fake Telegram's webhook side: delivery to two replicas in turn, with redelivery.

`AlternatingPusher` delivers webhook updates round-robin to the replicas' URLs, as a load
balancer in front of them would, and redelivers on a non-2xx answer or a timeout, as Telegram
does: an update stays first in its chat's queue until a replica answers 2xx (updates of one
chat go one at a time; chats go in parallel). `PushLog` is what it did, for the suite's checks.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import aiohttp

from bot.emulator.webhook import WebhookPusher
from bot.emulator.world import EmulatorWorld
from bot.emulator.world_state import PendingUpdate

_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Attempt:
    update_id: int
    chat_id: int
    target: str
    started: float
    ended: float
    outcome: str  # "200", "503", "refused", "reset", "timeout", ...


@dataclass
class PushLog:
    attempts: list[Attempt] = field(default_factory=list)
    delivered: dict[int, str] = field(default_factory=dict)  # update id -> replica that took it
    in_flight: dict[int, str] = field(default_factory=dict)  # update id -> replica
    gave_up: list[int] = field(default_factory=list)


def chat_of(update: PendingUpdate) -> int:
    payload = update.payload
    for key in ("chat", "from"):
        value = payload.get(key)
        if isinstance(value, dict) and isinstance(value.get("id"), int):
            return int(value["id"])
    return 0


class AlternatingPusher(WebhookPusher):
    """Webhook delivery to several replicas, one after the other, with Telegram's redelivery.

    A replica that refuses the connection (not running) is skipped for the next one at once,
    as a load balancer does (nginx `proxy_next_upstream error`); any other failure (a reset
    mid-request, a non-2xx, a timeout) goes back to Telegram, which redelivers after
    `redeliver_s`.
    """

    def __init__(
        self,
        world: EmulatorWorld,
        targets: dict[str, str],
        secret: str,
        *,
        timeout_s: float = 10.0,
        redeliver_s: float = 1.0,
        max_attempts: int = 120,
        max_connections: int = 40,
    ) -> None:
        super().__init__(world, retry_delay=redeliver_s)
        self.targets = dict(targets)  # name -> URL
        self.secret = secret
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.max_connections = max_connections
        self.log = PushLog()
        self._order = list(self.targets)
        self._next = 0
        self._busy_chats: set[int] = set()
        self.latest: dict[int, int] = {}  # chat -> its update delivered now or last
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def in_flight_at(self, target: str) -> int:
        return sum(1 for name in self.log.in_flight.values() if name == target)

    def _next_targets(self) -> list[str]:
        start = self._next % len(self._order)
        self._next += 1
        return self._order[start:] + self._order[:start]

    def _ready(self) -> list[PendingUpdate]:
        seen: set[int] = set()
        ready = []
        for update in self.world.updates:
            chat = chat_of(update)
            if chat in seen:
                continue
            seen.add(chat)  # only the first pending update of each chat may go
            if chat not in self._busy_chats:
                ready.append(update)
        return ready

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            try:
                while not self.world.closed:
                    for update in self._ready():
                        if len(self._tasks) >= self.max_connections:
                            break
                        chat = chat_of(update)
                        self._busy_chats.add(chat)
                        self.latest[chat] = update.update_id
                        task = asyncio.create_task(self._deliver(session, update, chat))
                        self._tasks.add(task)
                        task.add_done_callback(self._done)
                    with contextlib.suppress(AssertionError):
                        await self.world.wait_for(
                            lambda: self.world.closed or self._wake.is_set() or bool(self._ready()),
                            timeout=1.0,
                            what="updates",
                        )
                    self._wake.clear()
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def _deliver(
        self, session: aiohttp.ClientSession, update: PendingUpdate, chat: int
    ) -> None:
        try:
            for attempt in range(1, self.max_attempts + 1):
                if self.world.closed:
                    return
                if await self._attempt(session, update, chat):
                    return
                await asyncio.sleep(min(self.retry_delay * attempt, 2 * self.retry_delay))
            self.log.gave_up.append(update.update_id)
            self.world.updates = [u for u in self.world.updates if u is not update]
        finally:
            self._busy_chats.discard(chat)

    async def _attempt(
        self, session: aiohttp.ClientSession, update: PendingUpdate, chat: int
    ) -> bool:
        loop = asyncio.get_running_loop()
        for target in self._next_targets():
            started = loop.time()
            self.log.in_flight[update.update_id] = target
            try:
                outcome = await self._post(session, self.targets[target], update)
            finally:
                self.log.in_flight.pop(update.update_id, None)
            self.log.attempts.append(
                Attempt(update.update_id, chat, target, started, loop.time(), outcome)
            )
            if outcome == "refused":
                continue  # the balancer tries the next replica for this same request
            if outcome.isdigit() and 200 <= int(outcome) < 300:
                self.log.delivered[update.update_id] = target
                return True
            self.world.webhook_failed(f"Wrong response from the webhook: {outcome}")
            return False
        self.world.webhook_failed("Connection failed: every replica refused")
        return False

    async def _post(self, session: aiohttp.ClientSession, url: str, update: PendingUpdate) -> str:
        try:
            async with session.post(
                url,
                json=update.to_api(),
                headers={_SECRET_HEADER: self.secret},
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            ) as response:
                if not 200 <= response.status < 300:
                    return str(response.status)
                self.world.webhook_delivered(update.update_id)
                await self._run_answer(response)
                return str(response.status)
        except aiohttp.ClientConnectorError:
            return "refused"
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            return "reset"
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError as error:
            return type(error).__name__
