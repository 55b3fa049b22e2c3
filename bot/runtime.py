"""Long polling, webhook and worker runtimes, each a plain coroutine the CLI runs."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import App, open_app
from bot.factory import set_bot_commands
from bot.logs import log_event
from bot.notify_worker import Job, run_notification_jobs
from bot.outages import BACKEND, Backoff, OutageLog, note_failure, rest
from bot.polling import check_bot_token, start_polling
from bot.settings import Settings
from bot.webhook import create_webhook_app, drain_webhook

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT = 5.0
_SERVER_STOP_SECONDS = 2.0


async def run_bot(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """`python -m bot run`: the channels CHANNEL names (Telegram, MAX or both) until
    SIGINT/SIGTERM (or `stop`), each by webhook when its URL is set, else by long polling."""
    async with open_app(settings) as app:
        await serve_channels(app, stop)


async def serve_channels(app: App, stop: asyncio.Event | None = None) -> None:
    """The app's channels until a signal or `stop`; one that fails stops the others."""
    settings = app.settings
    stopping = stop or asyncio.Event()
    waiting = asyncio.create_task(_until_signal() if stop is None else stopping.wait())
    waiting.add_done_callback(lambda _: stopping.set())
    fronts = []
    if settings.max.channel.telegram:
        telegram = _telegram_webhook if settings.webhook.webhook_url else _telegram_polling
        fronts.append(asyncio.create_task(telegram(app, stopping)))
    if settings.max.channel.max:
        from max_channel.runtime import run_max

        fronts.append(asyncio.create_task(run_max(app, stopping)))
    try:
        await asyncio.wait(fronts, return_when=asyncio.FIRST_COMPLETED)
        stopping.set()  # one front ended (a signal, or a failure): the other stops too
        results = await asyncio.gather(*fronts, return_exceptions=True)
    finally:
        waiting.cancel()
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _telegram_polling(app: App, stop: asyncio.Event) -> None:
    await check_bot_token(app.bot)
    await set_bot_commands(app.bot, app.i18n)
    await app.bot.delete_webhook(drop_pending_updates=False)
    log_event(logger, "polling.start", api=app.settings.telegram.telegram_api_url)
    polling = asyncio.create_task(
        start_polling(app.dispatcher, app.bot, handle_signals=False)  # skips undecodable ones
    )
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        await app.dispatcher.stop_polling()
    stopping.cancel()
    outcome, _ = await asyncio.gather(polling, stopping, return_exceptions=True)
    if isinstance(outcome, Exception):
        raise outcome


async def _telegram_webhook(app: App, stop: asyncio.Event) -> None:
    """The webhook server until `stop`, then a drain (see `bot.webhook`): new updates get 503
    at once, so Telegram redelivers them to another replica, and those in flight finish (at
    most `SHUTDOWN_GRACE_SECONDS`) before the server stops."""
    settings = app.settings
    assert settings.webhook.webhook_url is not None and settings.webhook.webhook_secret is not None
    web_app = create_webhook_app(app)
    # After the drain nothing is in flight; the server's own wait is only a backstop.
    runner = web.AppRunner(web_app, shutdown_timeout=_SERVER_STOP_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.webhook.webhook_host, settings.webhook.webhook_port)
        await site.start()  # listening before Telegram is told where to push
        await set_bot_commands(app.bot, app.i18n)
        await app.bot.set_webhook(
            settings.webhook.webhook_url.rstrip("/") + settings.webhook.webhook_path,
            secret_token=settings.webhook.webhook_secret.get_secret_value(),
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
        log_event(logger, "webhook.start", port=settings.webhook.webhook_port)
        await stop.wait()
        log_event(logger, "webhook.stopping")
    finally:
        left = await drain_webhook(web_app)
        await runner.cleanup()
        log_event(logger, "webhook.stopped", cut_short=left)


async def run_worker(
    settings: Settings, *, once: bool = False, jobs: set[Job] | None = None
) -> None:
    """Background jobs (notifications, reminders, slot watches) until SIGINT/SIGTERM.

    Start as many worker processes as you like: rows are claimed with leases, the Telegram
    rate limits are shared through Redis. `once` only checks the dependencies (and fails if
    the backend does not answer); otherwise a backend that is down at start is waited for,
    and every job survives its dependencies' outages on its own."""
    async with open_app(settings) as app:
        chosen = jobs or set(Job)
        if once:
            await app.backend.health()
            log_event(logger, "worker.start", jobs=",".join(sorted(chosen)))
            return
        stop = asyncio.Event()
        waiting = asyncio.create_task(_until_signal())
        waiting.add_done_callback(lambda _: stop.set())
        if not await _backend_answers(app, stop):
            log_event(logger, "worker.stopped")  # a signal before the backend ever answered
            return
        log_event(logger, "worker.start", jobs=",".join(sorted(chosen)))
        work = asyncio.create_task(run_notification_jobs(app, stop, chosen))
        await asyncio.wait({work, waiting}, return_when=asyncio.FIRST_COMPLETED)
        # Jobs finish their current step (a send in flight is recorded) before the exit.
        stop.set()
        waiting.cancel()
        outcome, _ = await asyncio.gather(work, waiting, return_exceptions=True)
        if isinstance(outcome, Exception):
            raise outcome
        log_event(logger, "worker.stopped")


async def _backend_answers(app: App, stop: asyncio.Event) -> bool:
    """Wait (capped, jittered backoff; one line when it starts failing, one when it answers)
    until the backend's health check passes; False if asked to stop first."""
    outages = OutageLog("start", app.clock)
    backoff = Backoff(first=1.0, cap=30.0)
    while not stop.is_set():
        try:
            await asyncio.wait_for(app.backend.health(), HEALTH_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - whatever it is, the worker waits
            note_failure(outages, error, default=BACKEND)
            await rest(stop, backoff.next())
            continue
        outages.recovered()
        return True
    return False


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
