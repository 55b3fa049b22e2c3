"""The webhook server: Telegram's updates, answered only once handled; /healthz and /readyz.

Telegram redelivers an update until it gets a 2xx, so a 200 here means "handled": an update
whose replica dies mid-way (SIGKILL) gets no answer and is delivered again, to a replica
that is alive. A request goes through, in order:

1. A draining replica (SIGTERM received) answers 503 at once, before reading anything:
   Telegram redelivers to another replica instead of waiting on this one.
2. The secret header is checked (aiogram's `verify_secret`): 401 without it.
3. The body is parsed and validated: 400 "malformed" for anything that is not an update,
   a body nested too deep for the parser (RecursionError) included.
4. The update ledger (`bot.update_ledger`) is asked. Done before: 200 and nothing runs.
   Being handled by another replica: 503 (Telegram retries later). Ledger unreachable: 503,
   and the chat is told once in a while that its request is kept (`bot.outage_notice`).
5. The update is handled (`Dispatcher.feed_update`) while its ledger lease is renewed; a
   method a handler returns is called here rather than put into the answer, so it is done
   before the 200 too.
6. 200 once the handler finished; 500 when an exception escaped it (the lease is given back,
   so the redelivery runs it again).

Drain (`drain_webhook`, run on SIGTERM before the server stops): new requests get 503 from
that moment; the ones in flight finish, for at most `SHUTDOWN_GRACE_SECONDS`. The container's
stop grace period (docker-compose.yml) is longer than that, so Docker's SIGKILL does not cut
the drain.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from pydantic import ValidationError

from bot.app import App
from bot.events_endpoint import add_events_route
from bot.health import add_health_routes
from bot.logs import log_event
from bot.outage_notice import OutageNotice
from bot.update_ledger import Claim, LedgerUnavailable, UpdateLedger, create_update_ledger

logger = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20.0


def _answer(status: int, error: str | None = None) -> web.Response:
    response = web.json_response({} if error is None else {"error": error}, status=status)
    if status == 503:
        # Telegram should come back later, on a fresh connection (maybe to another replica).
        response.headers["Retry-After"] = "1"
        response.force_close()
    return response


class WebhookRequestHandler(SimpleRequestHandler):
    """Handles each update before answering; deduplicated by the ledger; drains on demand."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        secret_token: str,
        ledger: UpdateLedger,
        notice: OutageNotice | None = None,
        **data: Any,
    ) -> None:
        super().__init__(
            dispatcher, bot, handle_in_background=False, secret_token=secret_token, **data
        )
        self.ledger = ledger
        self.notice = notice
        self.draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def handle(self, request: web.Request) -> web.Response:
        if self.draining:
            return _answer(503, "draining")
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._handle(request)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            log_event(logger, "webhook.rejected", logging.WARNING, reason="secret")
            return _answer(401, "unauthorized")
        update = _parse_update(await request.read(), bot)
        if update is None:
            log_event(logger, "webhook.rejected", logging.WARNING, reason="malformed")
            return _answer(400, "malformed update")
        try:
            async with self.ledger.hold(bot.id, update.update_id) as claim:
                if claim is Claim.MINE:
                    await self._feed(bot, update)
        except LedgerUnavailable:
            if self.notice is not None:
                await self.notice.tell(bot, update)
            return _answer(503, "unavailable")
        except Exception as exc:  # noqa: BLE001 - not handled: Telegram must redeliver it
            log_event(
                logger,
                "webhook.failed",
                logging.ERROR,
                error=type(exc).__name__,
                update_id=update.update_id,
            )
            return _answer(500, "failed")
        if claim is Claim.BUSY:
            log_event(logger, "update.busy", update_id=update.update_id)
            return _answer(503, "busy")
        if self.notice is not None:
            self.notice.forget(update)
        if claim is Claim.DONE:
            log_event(logger, "update.duplicate", update_id=update.update_id)
        return _answer(200)

    async def _feed(self, bot: Bot, update: Update) -> None:
        result = await self.dispatcher.feed_update(bot, update, **self.data)
        if isinstance(result, TelegramMethod):
            await bot(result)  # in the answer it could be lost after the update counts as done

    async def drain(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> int:
        """Refuse new requests from now on; wait for those in flight. Returns how many are
        still running when the time is up (they are cancelled when the server stops)."""
        self.draining = True
        if self._in_flight:
            log_event(logger, "webhook.draining", in_flight=self._in_flight)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=grace)
        except TimeoutError:
            log_event(logger, "webhook.drain_timeout", logging.WARNING, left=self._in_flight)
        return self._in_flight

    async def close(self) -> None:
        await self.drain()
        await super().close()


def _parse_update(body: bytes, bot: Bot) -> Update | None:
    try:
        # A RecursionError is a body nested deeper than the parser goes: malformed, too.
        return Update.model_validate(json.loads(body), context={"bot": bot})
    except (ValueError, RecursionError, ValidationError):  # JSON and Unicode errors included
        return None


WEBHOOK_HANDLER = web.AppKey("webhook_handler", WebhookRequestHandler)


async def drain_webhook(web_app: web.Application, grace: float = SHUTDOWN_GRACE_SECONDS) -> int:
    """Start refusing updates (503) and let those in flight finish; see the module doc."""
    return await web_app[WEBHOOK_HANDLER].drain(grace)


def create_webhook_app(app: App) -> web.Application:
    secret = app.settings.webhook.webhook_secret
    if secret is None:
        raise RuntimeError("configuration error: WEBHOOK_SECRET is not set")
    web_app = web.Application()
    ledger = create_update_ledger(app.redis, app.settings.redis.redis_prefix, app.clock)
    notice = OutageNotice(app.i18n, app.clock)
    handler = WebhookRequestHandler(
        app.dispatcher, app.bot, secret.get_secret_value(), ledger, notice
    )
    handler.register(web_app, path=app.settings.webhook.webhook_path)
    web_app[WEBHOOK_HANDLER] = handler
    add_health_routes(web_app, app, draining=lambda: handler.draining)
    add_events_route(web_app, app)
    setup_application(web_app, app.dispatcher, bot=app.bot)
    return web_app
