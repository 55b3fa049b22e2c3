"""The HTTP face of the emulated MAX: the Bot API, the upload host and file downloads.

The token goes in the `Authorization` header (what maxapi sends) or, as MAX still
documents, the `access_token` query parameter. Upload (`/upload.do`) and file (`/files/`)
URLs need no token, like MAX's separate upload and CDN hosts.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from bot.emulator.common import EmulatorServerBase, Pusher
from bot.max_emulator import delivery, methods
from bot.max_emulator.errors import ApiError, invalid_token, method_not_allowed, not_found
from bot.max_emulator.methods import ApiRequest, Handler
from bot.max_emulator.world import MaxWorld

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/me", methods.get_me),
    ("PATCH", "/me/commands", methods.set_commands),
    ("GET", "/chats", methods.get_chats),
    ("GET", "/chats/{chat_id:-?\\d+}", methods.get_chat),
    ("POST", "/chats/{chat_id:-?\\d+}/actions", methods.send_action),
    ("GET", "/messages", methods.get_messages),
    ("POST", "/messages", methods.send_message),
    ("PUT", "/messages", methods.edit_message),
    ("DELETE", "/messages", methods.delete_message),
    ("GET", "/messages/{mid}", methods.get_message),
    ("POST", "/answers", methods.answer_callback),
    ("POST", "/uploads", methods.new_upload),
    ("GET", "/updates", delivery.get_updates),
    ("GET", "/subscriptions", delivery.get_subscriptions),
    ("POST", "/subscriptions", delivery.subscribe),
    ("DELETE", "/subscriptions", delivery.unsubscribe),
]
_PATTERN = re.compile(r"{(\w+):[^}]*}")
_WORLD: web.AppKey[MaxWorld] = web.AppKey("max_world", MaxWorld)


def _reply(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json"
    )


def _error(error: ApiError) -> web.Response:
    return _reply(error.to_payload(), error.status)


def _authorized(world: MaxWorld, request: web.Request) -> bool:
    header, query = request.headers.get("Authorization"), request.query.get("access_token")
    if header is not None:
        world.stats.token_in_header += 1
        return header == world.token
    if query is not None:
        world.stats.token_in_query += 1
        return query == world.token
    return False


def _api(world: MaxWorld, handler: Handler, name: str) -> Any:
    # Long polls are waiting, not the bot doing something; every other call is activity.
    is_poll = name == "GET /updates"

    async def serve(request: web.Request) -> web.Response:
        if not _authorized(world, request):
            return _error(invalid_token())
        world.stats.calls[name] += 1
        if not is_poll:
            world.request_started()
        try:
            if not is_poll and not world.limiter.request():
                world.stats.too_many_requests += 1
                raise ApiError(429, "too.many.requests", "Too many requests")
            body = None
            if request.can_read_body:
                raw = await request.read()
                try:
                    body = json.loads(raw) if raw.strip() else None
                except ValueError:
                    raise ApiError(400, "proto.payload", "Can't deserialize body") from None
            api_request = ApiRequest(
                dict(request.query),
                body,
                dict(request.match_info),
                lambda: request.transport is not None and not request.transport.is_closing(),
            )
            return _reply(await handler(world, api_request))
        except ApiError as error:
            return _error(error)
        finally:
            if not is_poll:
                world.request_finished()

    return serve


async def _upload(request: web.Request) -> web.Response:
    world = request.app[_WORLD]
    data, filename, mime = b"", "", ""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "data":
                data = await part.read(decode=False)
                filename = part.filename or ""
                mime = part.headers.get("Content-Type", "")
    else:  # the resumable way: the bytes as the body
        data, mime = await request.read(), request.content_type
    try:
        answer = world.files.receive(request.query.get("slot", ""), bytes(data), filename, mime)
    except ApiError as error:
        return _error(error)
    is_xml = answer.startswith("<?xml")
    return web.Response(text=answer, content_type="text/xml" if is_xml else "application/json")


async def _download(request: web.Request) -> web.Response:
    world = request.app[_WORLD]
    stored = world.files.by_id.get(int(request.match_info["file_id"]))
    if stored is None:
        return _error(not_found("File not found"))
    disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type,
        headers={"Content-Disposition": disposition},
    )


@web.middleware
async def _json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPMethodNotAllowed:
        return _error(method_not_allowed(request.method, request.path))
    except web.HTTPNotFound:
        return _error(not_found(f"Path {request.path} not found"))
    return response


def create_app(world: MaxWorld) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[_json_errors])
    app[_WORLD] = world
    for method, path, handler in ROUTES:
        name = method + " " + _PATTERN.sub(r"{\1}", path)  # "POST /chats/{chat_id}/actions"
        app.router.add_route(method, path, _api(world, handler, name))
    app.router.add_post("/upload.do", _upload)
    app.router.add_get("/files/{file_id:\\d+}/{name}", _download)
    return app


class MaxEmulatorServer(EmulatorServerBase[MaxWorld]):
    """Runs the emulator on 127.0.0.1 (a free port by default): `async with ... as server`."""

    def _new_world(self) -> MaxWorld:
        return MaxWorld()

    def _new_pusher(self, retry_delay: float) -> Pusher:
        return delivery.WebhookPusher(self.world, retry_delay=retry_delay)

    @property
    def token(self) -> str:
        return self.world.token

    def _make_app(self) -> web.Application:
        return create_app(self.world)

    def _bound(self) -> None:
        self.world.files.base_url = self.base_url
