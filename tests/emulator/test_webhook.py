"""Webhook mode: updates pushed to the bot's aiohttp server, secrets checked, errors reported;
the project's own webhook server loses no update when a replica drains."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from backend_client.protocol import RecordsBackend
from bot.app import open_app
from bot.db.migrate import upgrade
from bot.emulator import EmulatorServer, EmulatorWorld, track_dispatcher
from bot.emulator.harness import emulator_bot
from bot.offline import with_api_url
from bot.webhook import create_webhook_app, drain_webhook
from tests.conftest import sqlite_settings
from tests.emulator.echo_bot import create_echo_dispatcher
from tests.unit.chat import put_first


@pytest.fixture
def world() -> EmulatorWorld:
    return EmulatorWorld(quiet_period=0.05, allow_http_webhooks=True)


@pytest.fixture
async def server(world: EmulatorWorld) -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(world, webhook_retry_delay=0.05) as running:
        yield running


async def serve_webhook(
    dp: Dispatcher, bot: Bot, *, secret: str, background: bool = True
) -> tuple[web.AppRunner, str]:
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token=secret, handle_in_background=background).register(
        app, path="/tg"
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}/tg"


async def test_updates_are_pushed_to_the_webhook(
    world: EmulatorWorld, server: EmulatorServer
) -> None:
    bot = emulator_bot(server)
    dp = create_echo_dispatcher()
    track_dispatcher(world, dp)
    runner, url = await serve_webhook(dp, bot, secret="s3cret")
    try:
        await bot.set_webhook(url, secret_token="s3cret")
        user = world.user(telegram_id=1001)
        await user.send_command("/start")
        assert user.last_message.buttons == ["Запись к врачу", "Мои записи"]
        answer = await user.press("Запись к врачу")
        assert answer is not None and answer.text == "Выбрано 1"
        assert world.webhook.delivered == 2
    finally:
        await runner.cleanup()
        await bot.session.close()


async def test_wrong_secret_is_reported_in_webhook_info(
    world: EmulatorWorld, server: EmulatorServer
) -> None:
    bot = emulator_bot(server)
    runner, url = await serve_webhook(create_echo_dispatcher(), bot, secret="right")
    try:
        await bot.set_webhook(url, secret_token="wrong")
        user = world.user(telegram_id=1001)
        await user.send_text("hi", settle=False)
        await world.wait_for(
            lambda: world.webhook.last_error_message is not None, timeout=2, what="an error"
        )
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message == "Wrong response from the webhook: 401 Unauthorized"
        await bot.set_webhook(url, secret_token="right")  # fixed: the update goes through
        await world.settle(world.updates[0].update_id)
        assert user.last_message.text == "hi"
    finally:
        await runner.cleanup()
        await bot.session.close()


async def test_method_in_the_webhook_answer_is_executed(
    world: EmulatorWorld, server: EmulatorServer
) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> SendMessage:
        return message.answer("ответ прямо в webhook")

    dp = Dispatcher()
    dp.include_router(router)
    bot = emulator_bot(server)
    runner, url = await serve_webhook(dp, bot, secret="s", background=False)
    try:
        await bot.set_webhook(url, secret_token="s")
        user = world.user(telegram_id=1001)
        await user.send_command("/start")
        assert user.last_message.text == "ответ прямо в webhook"
    finally:
        await runner.cleanup()
        await bot.session.close()


async def test_plain_http_webhook_is_refused_by_default() -> None:
    async with EmulatorServer(EmulatorWorld()) as server:
        bot = emulator_bot(server)
        try:
            with pytest.raises(TelegramBadRequest, match="An HTTPS URL must be provided"):
                await bot.set_webhook("http://127.0.0.1:1/tg")
        finally:
            await bot.session.close()


class _UpBackend:
    async def health(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def _serve(web_app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}{PROJECT_PATH}"


PROJECT_PATH = "/telegram/webhook"


async def test_the_bots_webhook_loses_nothing_across_a_drain(
    world: EmulatorWorld, server: EmulatorServer, clean_env: None, tmp_path: Path
) -> None:
    # The project's own webhook server (not aiogram's): Telegram gets its 200 after the
    # reply was sent; a draining replica's 503 leaves the update at Telegram, pending, until
    # a replica that is up takes it.
    settings = sqlite_settings(
        tmp_path,
        webhook={"webhook_url": "https://bot.example", "webhook_secret": "s" * 32},
    )
    settings = with_api_url(settings, server.base_url)
    await asyncio.to_thread(upgrade, settings.database.database_url)
    async with open_app(
        settings, backend=cast(RecordsBackend, _UpBackend()), token=server.token
    ) as app:
        router = Router(name="emulator-webhook-probe")

        @router.message(Command("ping"))
        async def ping(message: Message) -> None:
            await message.answer("pong")

        put_first(app.dispatcher, router)
        track_dispatcher(world, app.dispatcher)
        replica_a, replica_b = create_webhook_app(app), create_webhook_app(app)
        runner_a, url_a = await _serve(replica_a)
        runner_b, url_b = await _serve(replica_b)
        try:
            await app.bot.set_webhook(url_a, secret_token="s" * 32)
            user = world.user(telegram_id=1002)
            await user.send_command("/ping")
            assert user.last_message.text == "pong"

            assert await drain_webhook(replica_a) == 0  # SIGTERM on A; nothing in flight
            await user.send_command("/ping", settle=False)
            await world.wait_for(
                lambda: world.webhook.last_error_message is not None, timeout=5, what="a refusal"
            )
            info = await app.bot.get_webhook_info()
            assert (
                info.last_error_message
                == "Wrong response from the webhook: 503 Service Unavailable"
            )
            assert info.pending_update_count == 1  # refused, not lost

            await app.bot.set_webhook(url_b, secret_token="s" * 32)  # the other replica
            await world.settle(world.updates[0].update_id)
            assert [m.text for m in user.messages if m.text == "pong"] == ["pong", "pong"]
            assert world.webhook.delivered == 2
        finally:
            await runner_a.cleanup()
            await runner_b.cleanup()
