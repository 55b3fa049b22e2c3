"""`POST <EVENTS_PATH>`: the backend pushes events; signed, fresh, processed exactly once.

Unsigned, wrongly signed or stale requests get 401 and change nothing. A valid body is
ingested in one transaction (outbox rows for every recipient); events already seen (from the
feed or an earlier push) are counted as duplicates, so a retried push is harmless.
"""

from __future__ import annotations

import json
import logging
import time

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
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return web.json_response({"error": "too large"}, status=413)
        problem = verify(
            secret,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            now=time.time(),
            max_age_seconds=config.events_max_age_seconds,
        )
        if problem is not None:
            log_event(logger, "events.rejected", logging.WARNING, reason=problem)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            raw = json.loads(body)
            events = _EVENTS.validate_python(raw.get("events") if isinstance(raw, dict) else None)
        except (json.JSONDecodeError, UnicodeDecodeError, ValidationError):
            log_event(logger, "events.rejected", logging.WARNING, reason="malformed")
            return web.json_response({"error": "malformed"}, status=400)
        created = 0
        async with app.sessionmaker() as session:
            for event in events:
                created += await ingest_event(session, cipher, event)
            await session.commit()
        log_event(logger, "events.accepted", events=len(events), messages=created)
        return web.json_response({"events": len(events), "messages": created})

    web_app.router.add_post(config.events_path, receive)
