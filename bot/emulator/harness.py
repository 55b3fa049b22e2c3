"""Wiring a real aiogram Bot/Dispatcher to a running emulator, for e2e tests and demos."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.emulator.server import EmulatorServer
from bot.emulator.tracking import track_dispatcher
from bot.emulator.world import EmulatorWorld


class FastCloseSession(AiohttpSession):
    """aiogram sleeps 250 ms on close to let TLS sockets drain; plain local HTTP needs none."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def emulator_session(server: EmulatorServer) -> AiohttpSession:
    return FastCloseSession(api=TelegramAPIServer.from_base(server.base_url))


def emulator_bot(
    server: EmulatorServer, *, token: str | None = None, parse_mode: str | None = ParseMode.HTML
) -> Bot:
    """A Bot talking to the emulator (HTML parse mode by default, like the project's bot)."""
    return Bot(
        token or server.token,
        session=emulator_session(server),
        default=DefaultBotProperties(parse_mode=parse_mode),
    )


@contextlib.asynccontextmanager
async def polling(
    dispatcher: Dispatcher,
    bot: Bot,
    world: EmulatorWorld,
    *,
    track: bool = True,
    **workflow_data: Any,
) -> AsyncIterator[None]:
    """Run `dispatcher.start_polling` for the body of the block, then stop it cleanly.

    With `track` the world learns when each update is fully handled, so the driver's
    actions settle as soon as the bot is done instead of after a quiet period.
    """
    if track:
        track_dispatcher(world, dispatcher)
    first_poll = world.stats.calls_per_method["getUpdates"]
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            handle_signals=False,
            close_bot_session=False,
            polling_timeout=5,
            **workflow_data,
        )
    )
    try:
        await world.wait_for(
            lambda: task.done() or world.stats.calls_per_method["getUpdates"] > first_poll,
            timeout=10,
            what="the dispatcher to start polling",
        )
        if task.done():
            task.result()  # startup failed: raise its error here
        yield
    finally:
        if not task.done():
            await dispatcher.stop_polling()
        await task
