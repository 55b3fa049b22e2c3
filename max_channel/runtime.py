"""Running the MAX front end: long polling (development, the offline emulator) or a webhook
(MAX_WEBHOOK_URL set: MAX pushes each update to it, signed with MAX_WEBHOOK_SECRET in the
`X-Max-Bot-Api-Secret` header, which maxapi's aiohttp webhook checks).

Both read the same database, FSM storage (Redis in production) and records backend as the
Telegram side; conversations of the two channels never share FSM keys (`turn.DESTINY`)."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import cast

from aiogram import Bot as TelegramBot
from aiohttp import web
from maxapi import Bot, Dispatcher
from maxapi.webhook.aiohttp import AiohttpMaxWebhook

from backend_client.protocol import RecordsBackend
from bot.app import App
from bot.backend_budget import BudgetedBackend
from bot.factory import create_fsm_backends
from bot.logs import log_event
from bot.services.rate_limit import MemoryRateLimiter
from max_channel.dispatcher import create_max_dispatcher
from max_channel.turn import MaxParts

logger = logging.getLogger(__name__)


def max_parts(app: App, telegram_bot: TelegramBot | None = None) -> MaxParts:
    """What the MAX turns need; `telegram_bot` reaches owners on Telegram (default: the app's
    own, when it runs both channels)."""
    backends = create_fsm_backends(app.settings, app.redis, app.clock)
    backend = app.backend
    if not isinstance(backend, BudgetedBackend):
        backend = cast(RecordsBackend, BudgetedBackend(backend))
    return MaxParts(
        settings=app.settings,
        backend=backend,
        sessionmaker=app.sessionmaker,
        keys=app.keys,
        clock=app.clock,
        i18n=app.i18n,
        storage=backends.storage,
        isolation=backends.isolation,
        telegram_bot=telegram_bot or app.telegram_bot,
        limiter=backends.limiter,
        notices=MemoryRateLimiter(rate=1.0 / 10.0, burst=1, clock=app.clock.monotonic),
    )


def max_bot_of(app: App) -> Bot:
    if app.max_bot is None:
        raise RuntimeError("configuration error: MAX_TOKEN is not set")
    return app.max_bot


async def run_max(app: App, stop: asyncio.Event) -> None:
    """The MAX front end until `stop` is set."""
    bot = max_bot_of(app)
    dispatcher = create_max_dispatcher(max_parts(app))
    if app.settings.max.max_webhook_url:
        await _webhook(app, bot, dispatcher, stop)
        return
    log_event(logger, "max.polling.start", api=app.settings.max.max_api_url)
    polling = asyncio.create_task(dispatcher.start_polling(bot))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        await dispatcher.stop_polling()
    stopping.cancel()
    await asyncio.gather(polling, stopping, return_exceptions=True)


async def _webhook(app: App, bot: Bot, dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    config = app.settings.max
    assert config.max_webhook_url is not None and config.max_webhook_secret is not None
    secret = config.max_webhook_secret.get_secret_value()
    hook = AiohttpMaxWebhook(dp=dispatcher, bot=bot, secret=secret)
    runner = web.AppRunner(hook.create_app(path=config.max_webhook_path), shutdown_timeout=2.0)
    await runner.setup()
    url = config.max_webhook_url.rstrip("/") + config.max_webhook_path
    try:
        await web.TCPSite(runner, config.max_webhook_host, config.max_webhook_port).start()
        with warnings.catch_warnings():
            # maxapi warns about plain HTTP; only http://127.* passes the settings' check.
            warnings.filterwarnings("ignore", "URL вебхука не использует HTTPS", UserWarning)
            await bot.subscribe_webhook(url, secret=secret)
        log_event(logger, "max.webhook.start", port=config.max_webhook_port)
        await stop.wait()
    finally:
        await runner.cleanup()
        log_event(logger, "max.webhook.stopped")
