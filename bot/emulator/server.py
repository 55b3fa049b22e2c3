"""The HTTP face of the emulator: `/bot{token}/{method}` and `/file/bot{token}/{path}`."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from bot.emulator.common import EmulatorServerBase, Pusher
from bot.emulator.errors import NOT_FOUND, UNAUTHORIZED, ApiError
from bot.emulator.methods import METHODS
from bot.emulator.params import read_params
from bot.emulator.webhook import WebhookPusher
from bot.emulator.world import EmulatorWorld

DEFAULT_TOKEN = "1234567:emulator-token-for-offline-use-only"  # noqa: S105 - not a secret
_METHOD_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)/?$")
_FILE_PATH = re.compile(r"^/file/bot([^/]+)/(.+)$")
_WORLD_KEY: web.AppKey[EmulatorWorld] = web.AppKey("world", EmulatorWorld)


def _reply(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


def _error(error: ApiError) -> web.Response:
    return _reply(error.to_payload(), error.status)


async def _dispatch(request: web.Request) -> web.StreamResponse:
    world = request.app[_WORLD_KEY]
    if match := _METHOD_PATH.match(request.path):
        return await _call_method(world, request, match.group(1), match.group(2))
    if request.method == "GET" and (match := _FILE_PATH.match(request.path)):
        return _download(world, match.group(1), match.group(2))
    return _error(NOT_FOUND)


async def _call_method(
    world: EmulatorWorld, request: web.Request, token: str, name: str
) -> web.Response:
    if not world.accept_token(token):
        return _error(UNAUTHORIZED)
    handler = METHODS.get(name.lower())
    if handler is None:
        return _error(NOT_FOUND)
    world.stats.calls_per_method[name] += 1
    # Long polls are not "the bot doing something"; every other call is activity.
    counts_as_activity = name.lower() != "getupdates"
    if counts_as_activity:
        world.request_started()
    try:
        params = await read_params(request)
        result = await handler(world, params)
    except ApiError as error:
        return _error(error)
    finally:
        if counts_as_activity:
            world.request_finished()
    return _reply({"ok": True, "result": result})


def _download(world: EmulatorWorld, token: str, path: str) -> web.Response:
    if not world.accept_token(token):
        return _error(UNAUTHORIZED)
    stored = world.file_by_path(path)
    if stored is None:
        return _error(NOT_FOUND)
    return web.Response(
        body=stored.data, content_type=stored.mime_type or "application/octet-stream"
    )


def create_app(world: EmulatorWorld) -> web.Application:
    app = web.Application(client_max_size=60 * 1024 * 1024)
    app[_WORLD_KEY] = world
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


class EmulatorServer(EmulatorServerBase[EmulatorWorld]):
    """Runs the emulator on a real socket: `async with EmulatorServer(world) as server:`."""

    def _new_world(self) -> EmulatorWorld:
        return EmulatorWorld()

    def _new_pusher(self, retry_delay: float) -> Pusher:
        return WebhookPusher(self.world, retry_delay=retry_delay)

    @property
    def token(self) -> str:
        """The token the world is bound to, or one it will accept as the first seen."""
        return self.world.bot_token or DEFAULT_TOKEN

    def _make_app(self) -> web.Application:
        return create_app(self.world)

    def _port_to_bind(self) -> int:
        return self._requested_port  # port=0 means a fresh free port on every start
