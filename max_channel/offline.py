"""The MAX front end running offline: the MAX emulator, the app, maxapi long polling over HTTP
(`make demo CHANNEL=max` and the e2e tests on MAX), as `bot.offline` is for Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot as TelegramBot
from pydantic import SecretStr

from backend_client.protocol import RecordsBackend
from bot.app import App, open_app
from bot.clock import Clock, SystemClock
from bot.db.migrate import upgrade
from bot.emulator.clock import Clock as EmulatorClock
from bot.max_emulator import MaxEmulatorServer, MaxWorld
from bot.max_emulator.harness import polling
from bot.settings import Settings
from bot.settings_max import Channel
from max_channel.dispatcher import create_max_dispatcher
from max_channel.runtime import max_bot_of, max_parts


@dataclass(slots=True)
class OfflineMaxStack:
    world: MaxWorld
    server: MaxEmulatorServer
    app: App


def on_emulator(settings: Settings, server: MaxEmulatorServer) -> Settings:
    """MAX only, with the emulator's token and address."""
    max_settings = settings.max.model_copy(
        update={
            "channel": Channel.MAX,
            "max_token": SecretStr(server.token),
            "max_api_url": server.base_url,
            "max_webhook_url": None,
        }
    )
    return settings.model_copy(update={"max": max_settings})


@asynccontextmanager
async def offline_max_stack(
    settings: Settings,
    *,
    backend: RecordsBackend | None = None,
    world: MaxWorld | None = None,
    clock: Clock | None = None,
    telegram_bot: TelegramBot | None = None,
) -> AsyncIterator[OfflineMaxStack]:
    """`telegram_bot`: a Telegram side running beside it (owners there are told on Telegram)."""
    clock = clock or SystemClock()
    # Alembic runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(upgrade, settings.database.database_url)
    async with MaxEmulatorServer(world or MaxWorld(clock=EmulatorClock(clock))) as server:
        local = on_emulator(settings, server)
        async with open_app(local, backend=backend, clock=clock, telegram=False) as app:
            bot = max_bot_of(app)
            # maxapi waits 2 s after an upload for MAX to process the file; the emulator's
            # files are ready at once (as `bot.max_emulator.harness.emulator_bot` does).
            bot.after_input_media_delay = 0.01
            bot.after_upload_retry_delay = 0.05
            dispatcher = create_max_dispatcher(max_parts(app, telegram_bot))
            async with polling(dispatcher, bot, server):
                yield OfflineMaxStack(server.world, server, app)
