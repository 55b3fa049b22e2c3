"""A fake Telegram for the fault suite, built on the project's emulator (bot/emulator).

Three things the emulator's own server does not do, added here without touching it:

- **Who called.** The Bot API is served on one port per calling process (each replica, each
  worker), so every call is journalled with its source: a reply from a replica and a
  notification from a worker are told apart, and the journal is what the suite counts.
- **Bursts of 429 / 500.** `TelegramFaults` makes the next N sends to each chosen chat fail
  with 429 (retry_after) or 500 before the emulator sees them.
- **Two replicas.** `AlternatingPusher` delivers webhook updates round-robin to the replicas'
  URLs, as a load balancer in front of them would, and redelivers on a non-2xx answer or a
  timeout, as Telegram does: an update stays first in its chat's queue until a replica
  answers 2xx (updates of one chat go one at a time; chats go in parallel).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.emulator.errors import ApiError
from bot.emulator.methods import METHODS
from bot.emulator.params import Params, read_params
from bot.emulator.webhook import WebhookPusher
from bot.emulator.world import EmulatorWorld, PendingUpdate

_METHOD_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)/?$")
_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What a person sees as the bot's answer (a bare answerCallbackQuery only stops a spinner).
SEND_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})
EDIT_METHODS = frozenset({"editmessagetext", "editmessagecaption", "editmessagereplymarkup"})
REPLY_METHODS = SEND_METHODS | EDIT_METHODS


@dataclass(frozen=True)
class Call:
    """One Bot API call as the fake Telegram answered it."""

    at: float  # the loop's clock (seconds)
    source: str  # "replica-a", "worker-1", ...
    method: str  # lower case
    chat_id: int | None
    query_id: str | None
    status: int  # 200, or the error status returned
    injected: bool  # a fault of the suite, not the emulator's answer
    text: str | None  # the message's text (sends and edits that succeeded)
    with_text: bool  # answerCallbackQuery carrying a text (a popup or toast)
    markup: str = ""  # the sent message's buttons (JSON), to tell notifications apart

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def visible(self) -> bool:
        """An answer a person sees: a message, an edit, or a callback answer with text."""
        if not self.ok:
            return False
        return self.method in REPLY_METHODS or (
            self.method == "answercallbackquery" and self.with_text
        )


@dataclass
class _Burst:
    status: int
    retry_after: int
    methods: frozenset[str]
    sources: frozenset[str]
    left: dict[int, int]  # per chat: how many more calls fail


class TelegramFaults:
    """Armed bursts of failures on the way into the emulator."""

    def __init__(self) -> None:
        self._bursts: list[_Burst] = []
        self.injected = 0

    def arm(
        self,
        *,
        status: int,
        per_chat: int,
        chats: Iterable[int],
        sources: Iterable[str],
        methods: Iterable[str] = REPLY_METHODS,
        retry_after: int = 2,
    ) -> None:
        """The next `per_chat` calls of `methods` from `sources` to each chat fail."""
        self._bursts.append(
            _Burst(
                status,
                retry_after,
                frozenset(m.lower() for m in methods),
                frozenset(sources),
                dict.fromkeys(chats, per_chat),
            )
        )

    def disarm(self) -> None:
        self._bursts.clear()

    def left(self) -> int:
        return sum(sum(b.left.values()) for b in self._bursts)

    def take(self, source: str, method: str, chat_id: int | None) -> ApiError | None:
        for burst in self._bursts:
            if source not in burst.sources or method not in burst.methods or chat_id is None:
                continue
            if burst.left.get(chat_id, 0) <= 0:
                continue
            burst.left[chat_id] -= 1
            self.injected += 1
            if burst.status == 429:
                return ApiError(
                    429,
                    f"Too Many Requests: retry after {burst.retry_after}",
                    retry_after=burst.retry_after,
                )
            return ApiError(burst.status, "Internal Server Error")
        return None


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


class FakeTelegram:
    """The emulator's world and methods behind one port per calling process."""

    def __init__(
        self,
        world: EmulatorWorld,
        sources: Iterable[str],
        *,
        replicas: dict[str, str],
        secret: str,
        timeout_s: float = 10.0,
        redeliver_s: float = 1.0,
    ) -> None:
        self.world = world
        self.sources = list(sources)
        self.faults = TelegramFaults()
        self.calls: list[Call] = []
        self.pusher = AlternatingPusher(
            world, replicas, secret, timeout_s=timeout_s, redeliver_s=redeliver_s
        )
        self.ports: dict[str, int] = {}
        # Per source: how long a send waits before the emulator takes it (a slow Telegram),
        # and a hook told when a send starts (a scenario acts while it is in flight).
        self.slow_sends: dict[str, float] = {}
        self.abandoned = 0  # slow sends whose caller was gone before they were taken
        self.on_send: Callable[[str, str, int | None], None] | None = None
        self._source_of_port: dict[int, str] = {}
        self._runner: web.AppRunner | None = None
        self._pusher_task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def base_url(self, source: str) -> str:
        return f"http://127.0.0.1:{self.ports[source]}"

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # access_log=None: request paths carry the bot token.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        for source in self.sources:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            self.ports[source] = port
            self._source_of_port[port] = source
            await web.SockSite(self._runner, sock).start()
        self._pusher_task = asyncio.create_task(self.pusher.run())

    async def stop(self) -> None:
        await self.world.close()
        if self._pusher_task is not None:
            self._pusher_task.cancel()
            await asyncio.gather(self._pusher_task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_change(self, timeout: float) -> None:  # noqa: ASYNC109
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()
        self._changed = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        match = _METHOD_PATH.match(request.path)
        if match is None:
            return _reply({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        token, name = match.group(1), match.group(2)
        if not self.world.accept_token(token):
            return _reply({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        handler = METHODS.get(name.lower())
        if handler is None:
            return _reply({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        source = self._source_of_port.get(int(sockname[1]) if sockname else -1, "unknown")
        method = name.lower()
        self.world.stats.calls_per_method[name] += 1
        counts_as_activity = method != "getupdates"
        try:
            params = await read_params(request)
        except ApiError as error:
            return _reply(error.to_payload(), error.status)
        chat_id = _int_or_none(params, "chat_id")
        query_id = params.text("callback_query_id")
        if chat_id is None and query_id is not None:
            query = self.world.callback_queries.get(query_id)
            chat_id = query.chat_id if query is not None else None
        with_text = bool(params.text("text")) if method == "answercallbackquery" else False
        loop = asyncio.get_running_loop()
        injected = self.faults.take(source, method, chat_id)
        if injected is not None:
            self._record(
                Call(
                    loop.time(),
                    source,
                    method,
                    chat_id,
                    query_id,
                    injected.status,
                    True,
                    None,
                    with_text,
                )
            )
            return _reply(injected.to_payload(), injected.status)
        if method in SEND_METHODS:
            if self.on_send is not None:
                self.on_send(source, method, chat_id)
            if self.slow_sends.get(source, 0) > 0:
                await asyncio.sleep(self.slow_sends[source])
                if request.transport is None or request.transport.is_closing():
                    # The caller died before Telegram took the message (a worker SIGKILLed
                    # mid-send): nothing was delivered, so another worker must send it.
                    self.abandoned += 1
                    self._record(
                        Call(loop.time(), source, method, chat_id, query_id, 0, True, None, False)
                    )
                    return _reply({"ok": False, "error_code": 0, "description": "gone"}, 500)
        if counts_as_activity:
            self.world.request_started()
        try:
            result = await handler(self.world, params)
        except ApiError as error:
            self._record(
                Call(
                    loop.time(),
                    source,
                    method,
                    chat_id,
                    query_id,
                    error.status,
                    False,
                    None,
                    with_text,
                )
            )
            return _reply(error.to_payload(), error.status)
        finally:
            if counts_as_activity:
                self.world.request_finished()
        text, markup = None, ""
        if isinstance(result, dict):
            text = result.get("text") or result.get("caption")
            markup = json.dumps(result.get("reply_markup") or {}, ensure_ascii=False)
            chat = result.get("chat")
            if chat_id is None and isinstance(chat, dict):
                chat_id = chat.get("id")
        self._record(
            Call(
                loop.time(), source, method, chat_id, query_id, 200, False, text, with_text, markup
            )
        )
        return _reply({"ok": True, "result": result})


def _int_or_none(params: Params, name: str) -> int | None:
    try:
        return params.integer(name)
    except ApiError:
        return None


def _reply(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json"
    )
