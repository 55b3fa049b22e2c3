"""Flood limits: per chat and global 429s with retry_after, counted for benchmarks."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot.emulator import EmulatorWorld, RateLimits


async def started_user(world: EmulatorWorld, telegram_id: int):
    user = world.user(telegram_id=telegram_id)
    await user.send_text("hi", settle=False)
    return user


async def test_per_chat_limit_allows_a_small_burst_then_429(world: EmulatorWorld, bot: Bot) -> None:
    world.set_rate_limits(RateLimits(enabled=True, per_chat_per_second=1, per_chat_burst=3))
    user = await started_user(world, 1001)
    for n in range(3):
        await bot.send_message(user.id, f"#{n}")
    with pytest.raises(TelegramRetryAfter) as error:
        await bot.send_message(user.id, "one too many")
    assert error.value.retry_after == 1
    assert error.value.message.endswith("Original description: Too Many Requests: retry after 1")
    assert world.stats.too_many_requests == 1
    assert world.stats.too_many_requests_per_chat[user.id] == 1
    assert world.stats.sends_per_chat[user.id] == 3

    world.clock.advance(1)  # one second refills one slot
    await bot.send_message(user.id, "after the pause")
    assert world.stats.sends_per_chat[user.id] == 4


async def test_global_limit_spans_chats(world: EmulatorWorld, bot: Bot) -> None:
    world.set_rate_limits(
        RateLimits(enabled=True, per_chat_burst=5, global_per_second=2, global_burst=2)
    )
    users = [await started_user(world, 2000 + n) for n in range(3)]
    await bot.send_message(users[0].id, "a")
    await bot.send_message(users[1].id, "b")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(users[2].id, "c")
    assert world.stats.too_many_requests_per_chat[users[2].id] == 1


async def test_limits_are_off_by_default(world: EmulatorWorld, bot: Bot) -> None:
    user = await started_user(world, 1001)
    for n in range(20):
        await bot.send_message(user.id, f"#{n}")
    assert world.stats.too_many_requests == 0
    assert world.stats.sends_per_chat[user.id] == 20
