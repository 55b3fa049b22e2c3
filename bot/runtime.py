"""Long polling, webhook and worker runtimes, each a plain coroutine the CLI runs."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import open_app
from bot.factory import set_bot_commands
from bot.logs import log_event
from bot.notify_worker import Job, run_notification_jobs
from bot.settings import Settings
from bot.webhook import create_webhook_app

logger = logging.getLogger(__name__)


async def run_polling(settings: Settings) -> None:
    async with open_app(settings) as app:
        await set_bot_commands(app.bot, app.i18n)
        await app.bot.delete_webhook(drop_pending_updates=False)
        log_event(logger, "polling.start", api=settings.telegram.telegram_api_url)
        await app.dispatcher.start_polling(
            app.bot, allowed_updates=app.dispatcher.resolve_used_update_types()
        )


async def run_webhook(settings: Settings) -> None:
    assert settings.webhook.webhook_url is not None and settings.webhook.webhook_secret is not None
    async with open_app(settings) as app:
        web_app = create_webhook_app(app)
        await set_bot_commands(app.bot, app.i18n)
        await app.bot.set_webhook(
            settings.webhook.webhook_url.rstrip("/") + settings.webhook.webhook_path,
            secret_token=settings.webhook.webhook_secret.get_secret_value(),
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, settings.webhook.webhook_host, settings.webhook.webhook_port)
        await site.start()
        log_event(logger, "webhook.start", port=settings.webhook.webhook_port)
        try:
            await _until_signal()
        finally:
            # Stops accepting requests, then drains in-flight updates (GracefulRequestHandler).
            await runner.cleanup()
            log_event(logger, "webhook.stopped")


async def run_worker(
    settings: Settings, *, once: bool = False, jobs: set[Job] | None = None
) -> None:
    """Background jobs (notifications, reminders, slot watches) until SIGINT/SIGTERM.

    Start as many worker processes as you like: rows are claimed with leases, the Telegram
    rate limits are shared through Redis. `once` only checks the dependencies."""
    async with open_app(settings) as app:
        await app.backend.health()
        chosen = jobs or set(Job)
        log_event(logger, "worker.start", jobs=",".join(sorted(chosen)))
        if once:
            return
        stop = asyncio.Event()
        work = asyncio.create_task(run_notification_jobs(app, stop, chosen))
        waiting = asyncio.create_task(_until_signal())
        await asyncio.wait({work, waiting}, return_when=asyncio.FIRST_COMPLETED)
        # Jobs finish their current step (a send in flight is recorded) before the exit.
        stop.set()
        waiting.cancel()
        outcome, _ = await asyncio.gather(work, waiting, return_exceptions=True)
        if isinstance(outcome, Exception):
            raise outcome
        log_event(logger, "worker.stopped")


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
