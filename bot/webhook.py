"""The webhook server: Telegram's updates (secret-checked), /healthz and /readyz."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import text

from bot.app import App
from bot.events_endpoint import add_events_route
from bot.logs import log_event

logger = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20.0


class GracefulRequestHandler(SimpleRequestHandler):
    """Answers Telegram at once, and on shutdown lets in-flight updates finish first."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret_token: str, **data: Any) -> None:
        super().__init__(
            dispatcher, bot, handle_in_background=True, secret_token=secret_token, **data
        )

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            log_event(logger, "webhook.rejected", logging.WARNING, reason="secret")
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            # Validated here, not in the background task: there a bad body would only end up
            # as a "Task exception was never retrieved" log line quoting what it contained.
            Update.model_validate(await request.json(), context={"bot": bot})
        except (json.JSONDecodeError, UnicodeDecodeError, ValidationError):
            log_event(logger, "webhook.rejected", logging.WARNING, reason="malformed")
            return web.json_response({"error": "malformed update"}, status=400)
        return await super().handle(request)

    async def close(self) -> None:
        pending = set(self._background_feed_update_tasks)
        if pending:
            log_event(logger, "webhook.draining", in_flight=len(pending))
            await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_SECONDS)
        await super().close()


async def readiness(app: App) -> dict[str, str]:
    """Each dependency's state: "ok" or the kind of failure (never its message)."""
    checks: dict[str, str] = {}
    try:
        async with app.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = type(exc).__name__
    if app.redis is not None:
        try:
            await app.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = type(exc).__name__
    try:
        await asyncio.wait_for(app.backend.health(), timeout=3)
        checks["backend"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["backend"] = type(exc).__name__
    return checks


def add_health_routes(web_app: web.Application, app: App) -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness(app)
        ready = all(value == "ok" for value in checks.values())
        return web.json_response(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status=200 if ready else 503,
        )

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)


def create_webhook_app(app: App) -> web.Application:
    secret = app.settings.webhook.webhook_secret
    if secret is None:
        raise RuntimeError("configuration error: WEBHOOK_SECRET is not set")
    web_app = web.Application()
    handler = GracefulRequestHandler(app.dispatcher, app.bot, secret.get_secret_value())
    handler.register(web_app, path=app.settings.webhook.webhook_path)
    add_health_routes(web_app, app)
    add_events_route(web_app, app)
    setup_application(web_app, app.dispatcher, bot=app.bot)
    return web_app
