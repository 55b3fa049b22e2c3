"""`POST <EVENTS_PATH>`: the backend pushes events; signed, fresh, processed exactly once.

A body over `MAX_BODY_BYTES` gets 413 before its signature is looked at: a declared
Content-Length over the limit is refused unread, and the body is read with a hard cap (a
chunked or lying sender cannot make it read more). Unsigned, wrongly signed or stale
requests get 401 and change nothing ("stale" on the app's one clock). A valid body is
ingested in one transaction (outbox rows for every recipient); events already seen (from the
feed or an earlier push) are counted as duplicates, so a retried push is harmless.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from backend_client.models import Event
from bot.app import App
from bot.crypto import FieldCipher
from bot.logs import log_event
from bot.services.notifications.intake import ingest_event
from bot.services.notifications.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
_EVENTS = TypeAdapter(list[Event])


def add_events_route(web_app: web.Application, app: App) -> None:
    config = app.settings.notifications
    if config.events_secret is None:
        return
    secret = config.events_secret.get_secret_value().encode()
    cipher = FieldCipher(app.keys)

    async def receive(request: web.Request) -> web.Response:
        now = app.clock()
        declared = request.content_length
        body = None if declared is not None and declared > MAX_BODY_BYTES else await _read(request)
        if body is None:
            log_event(logger, "events.rejected", logging.WARNING, reason="too_large")
            response = web.json_response({"error": "too large"}, status=413)
            response.force_close()  # the rest of the body is never read
            return response
        problem = verify(
            secret,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            now=now.timestamp(),
            max_age_seconds=config.events_max_age_seconds,
        )
        if problem is not None:
            log_event(logger, "events.rejected", logging.WARNING, reason=problem)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            raw = json.loads(body)
            events = _EVENTS.validate_python(raw.get("events") if isinstance(raw, dict) else None)
        except (ValueError, RecursionError, ValidationError):  # JSON, Unicode, too deep
            log_event(logger, "events.rejected", logging.WARNING, reason="malformed")
            return web.json_response({"error": "malformed"}, status=400)
        created = 0
        async with app.sessionmaker() as session:
            for event in events:
                created += await ingest_event(session, cipher, event, now)
            await session.commit()
        log_event(logger, "events.accepted", events=len(events), messages=created)
        return web.json_response({"events": len(events), "messages": created})

    web_app.router.add_post(config.events_path, receive)


async def _read(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The whole body, or None once it passes `limit` (`read(n)` returns what is buffered,
    not n bytes: one call would see only the start of a big body)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(chunks)
