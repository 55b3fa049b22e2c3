"""Long polling as Telegram does it: offsets, held-open requests, filters, conflicts."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError

from bot.emulator import EmulatorWorld


async def test_polling_delivers_message_and_offset_acknowledges(
    world: EmulatorWorld, bot: Bot
) -> None:
    user = world.user(telegram_id=1001, first_name="Анна")
    await user.send_command("/start", settle=False)

    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    assert message.from_user is not None and message.from_user.id == 1001

    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]  # not confirmed yet

    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []
    assert world.delivered_update_id == updates[0].update_id


async def test_long_poll_is_held_open_until_a_message_arrives(
    world: EmulatorWorld, bot: Bot
) -> None:
    user = world.user(telegram_id=1001)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()

    started = asyncio.get_running_loop().time()
    await user.send_text("hello", settle=False)
    updates = await asyncio.wait_for(poll, 1)
    assert asyncio.get_running_loop().time() - started < 0.5
    assert updates[0].message is not None and updates[0].message.text == "hello"


async def test_long_poll_returns_empty_after_its_timeout(bot: Bot) -> None:
    started = asyncio.get_running_loop().time()
    assert await bot.get_updates(timeout=1) == []
    assert asyncio.get_running_loop().time() - started >= 0.9


async def test_allowed_updates_filters_new_updates_and_limit_caps_the_batch(
    world: EmulatorWorld, bot: Bot
) -> None:
    user = world.user(telegram_id=1001)
    for text in ("one", "two", "three"):
        await user.send_text(text, settle=False)
    batch = await bot.get_updates(limit=2, timeout=0, allowed_updates=["callback_query"])
    assert [u.message.text for u in batch if u.message] == ["one", "two"]  # queued before
    await bot.get_updates(offset=batch[-1].update_id + 1, timeout=0)
    await user.send_text("four", settle=False)  # not wanted any more: never queued
    rest = await bot.get_updates(timeout=0)
    assert [u.message.text for u in rest if u.message] == ["three"]


async def test_get_updates_conflicts_with_an_active_webhook(bot: Bot) -> None:
    await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/hook"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates(timeout=0) == []


async def test_second_poller_terminates_the_first(world: EmulatorWorld, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 1)
    assert await second == []
