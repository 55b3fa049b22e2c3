"""The whole bot running offline: the Telegram emulator, the app, long polling over HTTP.

`make demo` and the end-to-end tests both run exactly this, so what the tests prove is what a
person trying the demo gets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from backend_client.protocol import RecordsBackend
from bot.app import App, open_app
from bot.clock import Clock, SystemClock
from bot.db.migrate import upgrade
from bot.emulator import EmulatorServer, EmulatorWorld, track_dispatcher
from bot.emulator.clock import Clock as EmulatorClock
from bot.factory import set_bot_commands
from bot.polling import start_polling
from bot.settings import Settings


@dataclass(slots=True)
class OfflineStack:
    world: EmulatorWorld
    server: EmulatorServer
    app: App


def with_api_url(settings: Settings, url: str) -> Settings:
    telegram = settings.telegram.model_copy(update={"telegram_api_url": url})
    return settings.model_copy(update={"telegram": telegram})


@asynccontextmanager
async def offline_stack(
    settings: Settings,
    *,
    backend: RecordsBackend | None = None,
    world: EmulatorWorld | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[OfflineStack]:
    """The emulator and the app on one clock (`clock`, else the system's; a given `world`
    keeps the clock it was made with)."""
    clock = clock or SystemClock()
    # Alembic runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(upgrade, settings.database.database_url)
    async with EmulatorServer(world or EmulatorWorld(clock=EmulatorClock(clock))) as server:
        local = with_api_url(settings, server.base_url)
        async with open_app(local, backend=backend, token=server.token, clock=clock) as app:
            track_dispatcher(server.world, app.dispatcher)
            await set_bot_commands(app.bot, app.i18n)
            polling = asyncio.create_task(
                start_polling(
                    app.dispatcher, app.bot, handle_signals=False, close_bot_session=False
                )
            )
            try:
                yield OfflineStack(server.world, server, app)
            finally:
                with contextlib.suppress(RuntimeError):  # polling may not have started yet
                    await app.dispatcher.stop_polling()
                await polling
