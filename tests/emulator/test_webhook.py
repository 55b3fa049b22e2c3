"""Webhook mode: updates pushed to the bot's aiohttp server, secrets checked, errors reported."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.emulator import EmulatorServer, EmulatorWorld, track_dispatcher
from bot.emulator.harness import emulator_bot
from tests.emulator.echo_bot import create_echo_dispatcher


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
