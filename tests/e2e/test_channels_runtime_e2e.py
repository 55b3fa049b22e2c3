"""`python -m bot run` as an operator runs it (`bot.runtime.serve_channels`): `CHANNEL=both`
answers Telegram and MAX from one process and one database; MAX in webhook mode checks MAX's
secret header on every push, and a push without it is refused and handled by nobody."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from pydantic import SecretStr

from backend_client.sandbox import SandboxBackend
from bot.app import open_app
from bot.clock import FrozenClock
from bot.db.migrate import upgrade
from bot.emulator import EmulatorServer, EmulatorWorld
from bot.emulator.clock import Clock as EmulatorClock
from bot.max_emulator import MaxEmulatorServer, MaxWorld
from bot.runtime import serve_channels
from bot.settings import Settings
from bot.settings_max import Channel

pytestmark = pytest.mark.e2e

SECRET = "max-webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(
    settings: Settings, sandbox: SandboxBackend, clock: FrozenClock
) -> AsyncIterator[None]:
    await asyncio.to_thread(upgrade, settings.database.database_url)
    stop = asyncio.Event()
    async with open_app(settings, backend=sandbox, clock=clock) as app:
        task = asyncio.create_task(serve_channels(app, stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def test_channel_both_answers_telegram_and_max_from_one_process(
    e2e_settings: Settings, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    async with (
        EmulatorServer(EmulatorWorld(clock=EmulatorClock(sandbox_clock))) as telegram,
        MaxEmulatorServer(MaxWorld(clock=EmulatorClock(sandbox_clock))) as max_server,
    ):
        settings = e2e_settings.model_copy(
            update={
                "telegram": e2e_settings.telegram.model_copy(
                    update={
                        "bot_token": SecretStr(telegram.token),
                        "telegram_api_url": telegram.base_url,
                    }
                ),
                "max": e2e_settings.max.model_copy(
                    update={
                        "channel": Channel.BOTH,
                        "max_token": SecretStr(max_server.token),
                        "max_api_url": max_server.base_url,
                    }
                ),
            }
        )
        async with serving(settings, sandbox, sandbox_clock):
            on_max = max_server.world.user(9001, "Анна")
            await on_max.start()
            on_telegram = telegram.world.user(9001, "Анна", language_code="en")
            await on_telegram.send_command("/start")
            await on_telegram.wait_idle(10)
        assert on_max.last_message.text == "Выберите язык / Choose your language:"
        assert on_telegram.last_message.text == "Выберите язык / Choose your language:"


async def test_max_webhook_mode_checks_the_secret_on_every_push(
    e2e_settings: Settings, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    port = free_port()
    world = MaxWorld(clock=EmulatorClock(sandbox_clock), allow_http_webhooks=True)
    async with MaxEmulatorServer(world) as max_server:
        settings = e2e_settings.model_copy(
            update={
                "max": e2e_settings.max.model_copy(
                    update={
                        "channel": Channel.MAX,
                        "max_token": SecretStr(max_server.token),
                        "max_api_url": max_server.base_url,
                        "max_webhook_url": f"http://127.0.0.1:{port}",
                        "max_webhook_secret": SecretStr(SECRET),
                        "max_webhook_host": "127.0.0.1",
                        "max_webhook_port": port,
                    }
                )
            }
        )
        async with serving(settings, sandbox, sandbox_clock):
            await world.signal.wait_for(
                lambda: world.subscription is not None, timeout=10, what="the webhook subscription"
            )
            person = world.user(9002, "Олег")
            await person.start()
            assert person.last_message.text == "Выберите язык / Choose your language:"
            seen = len(person.messages)
            forged = {
                "update_type": "bot_started",
                "timestamp": 1,
                "chat_id": person.chat_id,
                "user": {
                    "user_id": person.user_id,
                    "first_name": "X",
                    "is_bot": False,
                    "last_activity_time": 1,
                },
            }
            url = f"http://127.0.0.1:{port}/max/webhook"
            async with aiohttp.ClientSession() as session:
                async with session.post(url, json=forged) as unsigned:
                    assert unsigned.status == 403
                headers = {"X-Max-Bot-Api-Secret": "wrong-secret-0123456789"}
                async with session.post(url, json=forged, headers=headers) as wrong:
                    assert wrong.status == 403
            assert len(person.messages) == seen  # nobody handled the forged pushes
