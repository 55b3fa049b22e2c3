"""Wiring a real maxapi `Bot`/`Dispatcher` to a running emulator, by polling or webhook.

maxapi hard-codes `https://platform-api2.max.ru` in `BaseConnection.API_URL`; the supported
override is `bot.set_api_url(url)`, which every request reads as `bot.api_url + path`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import warnings
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from maxapi import Bot, Dispatcher
from maxapi.webhook.aiohttp import AiohttpMaxWebhook

from bot.max_emulator.server import MaxEmulatorServer


def emulator_bot(server: MaxEmulatorServer, *, token: str | None = None, **kwargs: Any) -> Bot:
    """A maxapi Bot talking to the emulator.

    maxapi sleeps `after_input_media_delay` (2 s) after uploading media inside a send, to
    let MAX process the file; the emulator's files are ready at once unless
    `processing_seconds` is set, so the pause is shortened here."""
    kwargs.setdefault("after_input_media_delay", 0.01)
    kwargs.setdefault("after_upload_retry_delay", 0.05)
    bot = Bot(token or server.token, **kwargs)
    bot.set_api_url(server.base_url)
    return bot


@contextlib.asynccontextmanager
async def polling(
    dispatcher: Dispatcher, bot: Bot, server: MaxEmulatorServer
) -> AsyncIterator[None]:
    """Run `dispatcher.start_polling(bot)` for the body of the block, then stop cleanly."""
    world = server.world
    first = world.updates.polls
    task = asyncio.create_task(dispatcher.start_polling(bot))
    try:
        await world.signal.wait_for(
            lambda: task.done() or world.updates.polls > first,
            timeout=10,
            what="the dispatcher to start polling",
        )
        if task.done():
            task.result()  # startup failed (bad token...): raise its error here
        yield
    finally:
        if not task.done():
            await dispatcher.stop_polling()
        await asyncio.gather(task, return_exceptions=True)
        await bot.close_session()


@contextlib.asynccontextmanager
async def webhook(
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    secret: str | None = "emulator-webhook-secret",  # noqa: S107 - a test value
    path: str = "/max-webhook",
) -> AsyncIterator[str]:
    """Serve maxapi's aiohttp webhook on 127.0.0.1 and subscribe it; yields its URL.

    The world must allow plain-HTTP webhooks (`MaxWorld(allow_http_webhooks=True)`)."""
    hook = AiohttpMaxWebhook(dp=dispatcher, bot=bot, secret=secret)
    runner = web.AppRunner(hook.create_app(path=path), access_log=None, shutdown_timeout=1)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
    await web.SockSite(runner, sock).start()
    try:
        with warnings.catch_warnings():
            # maxapi warns about plain HTTP; on 127.0.0.1 there is nothing to encrypt.
            warnings.filterwarnings("ignore", "URL вебхука не использует HTTPS", UserWarning)
            await bot.subscribe_webhook(url, secret=secret)
        yield url
    finally:
        with contextlib.suppress(Exception):
            await bot.unsubscribe_webhook(url)
        await runner.cleanup()
        await bot.close_session()
