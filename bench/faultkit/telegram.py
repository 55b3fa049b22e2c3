"""A fake Telegram for the fault suite, built on the project's emulator (bot/emulator).

Three things the emulator's own server does not do, added here without touching it:

- **Who called.** The Bot API is served on one port per calling process (each replica, each
  worker), so every call is journalled with its source: a reply from a replica and a
  notification from a worker are told apart, and the journal is what the suite counts.
- **Bursts of 429 / 500.** `TelegramFaults` makes the next N sends to each chosen chat fail
  with 429 (retry_after) or 500 before the emulator sees them.
- **Two replicas.** `AlternatingPusher` (faultkit/pusher.py) delivers webhook updates
  round-robin to the replicas' URLs, as a load balancer in front of them would, and
  redelivers on a non-2xx answer or a timeout, as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.emulator.errors import ApiError
from bot.emulator.methods import METHODS
from bot.emulator.params import Params, read_params
from bot.emulator.world import EmulatorWorld
from faultkit.pusher import AlternatingPusher

_METHOD_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)/?$")
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
    # The chat's update being delivered (or last delivered) when the call came: a chat's
    # updates go one at a time, so this is the update the call answers (`AlternatingPusher`).
    update_id: int | None = None

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
        if call.chat_id is not None:
            call = dataclasses.replace(call, update_id=self.pusher.latest.get(call.chat_id))
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
