"""Long polling as Telegram does it: offsets, held-open requests, filters, conflicts; and the
bot's polling getting past an update it cannot decode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError

from bot.emulator import EmulatorServer, EmulatorWorld, track_dispatcher
from bot.emulator.harness import emulator_bot
from bot.polling import check_bot_token, start_polling
from bot.settings import SettingsError
from tests.emulator.echo_bot import create_echo_dispatcher


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


# --- an update the bot cannot decode ------------------------------------------------------


@contextlib.asynccontextmanager
async def guarded_polling(world: EmulatorWorld, bot: Bot) -> AsyncIterator[Dispatcher]:
    """The echo bot polling the emulator the way `run_polling` and `make demo` do."""
    dispatcher = create_echo_dispatcher()
    track_dispatcher(world, dispatcher)
    task = asyncio.create_task(
        start_polling(
            dispatcher, bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    try:
        await world.wait_for(
            lambda: task.done() or world.stats.calls_per_method["getUpdates"] > 0,
            timeout=10,
            what="the bot to start polling",
        )
        yield dispatcher
    finally:
        if not task.done():
            await dispatcher.stop_polling()
        await task


def _undecodable(world: EmulatorWorld, user_id: int, text: str) -> int:
    """A message update the bot has no model for (a `date` that is not a timestamp), carrying
    what a patient wrote and their name, queued as Telegram would deliver it."""
    message = world.add_message(world.chat(user_id), from_bot=False, text=text)
    payload = message.to_api() | {"date": "yesterday"}
    update_id = world.enqueue("message", payload)
    assert update_id is not None
    return update_id


def _skipped(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.msg == "polling.skipped_bad_update"]


async def test_a_bad_update_is_skipped_and_the_rest_of_its_batch_answered(
    world: EmulatorWorld, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = world.user(telegram_id=1001, first_name="Мария")
    async with guarded_polling(world, bot):
        # Queued without a pause, so the bot fetches all three in one batch.
        world.user_message(1001, text="one")
        bad = _undecodable(world, 1001, "Мария: мой диагноз")
        _, last = world.user_message(1001, text="two")
        await world.settle(last)
        await world.wait_for(lambda: not world.updates, timeout=5, what="the batch confirmed")

    assert [m.text for m in user.messages] == ["one", "two"]  # nobody waits for nothing
    [line] = _skipped(caplog)
    assert line.event_fields == {"update_id": bad}  # type: ignore[attr-defined]
    logged = " ".join(str(r.__dict__) for r in caplog.records)
    assert "Мария" not in logged and "диагноз" not in logged
    # The batch as a whole never failed: aiogram did not back off and log the content.
    assert "Failed to fetch updates" not in logged


async def test_a_bad_last_update_is_not_fetched_again(
    world: EmulatorWorld, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = world.user(telegram_id=1001)
    async with guarded_polling(world, bot):
        world.user_message(1001, text="before")
        bad = _undecodable(world, 1001, "the last one of its batch")
        # The next poll confirms it although the dispatcher never saw it ...
        await world.wait_for(lambda: not world.updates, timeout=5, what="the bad update confirmed")
        polls = world.stats.calls_per_method["getUpdates"]
        # ... and the bot keeps answering afterwards.
        await user.send_text("after")
        assert world.stats.calls_per_method["getUpdates"] - polls < 10  # no loop on the batch

    assert [m.text for m in user.messages] == ["before", "after"]
    assert [r.event_fields for r in _skipped(caplog)] == [{"update_id": bad}]  # type: ignore[attr-defined]


async def test_a_batch_of_only_bad_updates_is_passed_and_polling_goes_on(
    world: EmulatorWorld, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = world.user(telegram_id=1001)
    async with guarded_polling(world, bot):
        first = _undecodable(world, 1001, "bad one")
        second = _undecodable(world, 1001, "bad two")
        await world.wait_for(lambda: not world.updates, timeout=5, what="both bad confirmed")
        await user.send_text("still here?")

    assert [m.text for m in user.messages] == ["still here?"]
    assert [r.event_fields for r in _skipped(caplog)] == [  # type: ignore[attr-defined]
        {"update_id": first},
        {"update_id": second},
    ]


async def test_a_token_telegram_refuses_is_one_line_naming_it(
    server: EmulatorServer, bot: Bot
) -> None:
    await check_bot_token(bot)  # the emulator's own token passes (and binds it)
    wrong = "222222:WRONGtokenWRONGtokenWRONG"
    stranger = emulator_bot(server, token=wrong)
    try:
        with pytest.raises(SettingsError) as info:
            await check_bot_token(stranger)
    finally:
        await stranger.session.close()
    message = str(info.value)
    assert message.startswith("configuration error: BOT_TOKEN: ") and "\n" not in message
    assert wrong not in message and "WRONG" not in message
