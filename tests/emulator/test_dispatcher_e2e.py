"""The whole loop over HTTP: aiogram polling, handlers, the driver acting as a user."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot

from bot.emulator import EmulatorWorld
from bot.emulator.harness import polling
from tests.emulator.echo_bot import Pick, create_echo_dispatcher


@pytest.fixture
async def running(world: EmulatorWorld, bot: Bot):
    async with polling(create_echo_dispatcher(), bot, world):
        yield


async def test_start_shows_menu_and_press_edits_it(world: EmulatorWorld, running) -> None:
    user = world.user(telegram_id=1001, first_name="Анна")
    await user.send_command("/start")
    assert user.last_message.text == "Здравствуйте! Выберите действие:"
    assert user.last_message.html == "<b>Здравствуйте!</b> Выберите действие:"
    assert user.last_message.buttons == ["Запись к врачу", "Мои записи"]

    answer = await user.press("Мои записи")
    assert answer is not None and answer.text == "Выбрано 2" and not answer.show_alert
    assert user.last_message.text == "Вы выбрали пункт 2"
    assert user.last_message.buttons == []  # editMessageText without markup drops it
    assert len(user.messages) == 1 and len(user.edits) == 1


async def test_echo_escapes_user_text(world: EmulatorWorld, running) -> None:
    user = world.user(telegram_id=1001)
    await user.send_text("a < b & c")
    assert user.last_message.text == "a < b & c"


async def test_forged_callback_data_gets_an_alert(world: EmulatorWorld, running) -> None:
    user = world.user(telegram_id=1001)
    await user.send_command("/start")
    answer = await user.press_data(user.last_message.message_id, Pick(item=99).pack())
    assert answer.show_alert and answer.text == "Кнопка устарела"


async def test_press_missing_button_lists_what_is_visible(world: EmulatorWorld, running) -> None:
    user = world.user(telegram_id=1001)
    await user.send_command("/start")
    with pytest.raises(AssertionError, match="'Запись к врачу', 'Мои записи'"):
        await user.press("Удалить всё")


async def test_share_contact_own_and_foreign(world: EmulatorWorld, running) -> None:
    user = world.user(telegram_id=1001, phone="+79990000001")
    await user.send_command("/phone")
    assert user.reply_keyboard == ["Поделиться номером"]
    await user.press("Поделиться номером")  # request_contact button shares own contact
    assert user.sent[-1].contact == {
        "phone_number": "+79990000001",
        "first_name": "Test",
        "user_id": 1001,
    }
    assert user.last_message.text == "Номер получен"
    assert user.reply_keyboard == []

    await user.share_contact("+79990000002", user_id=2002)
    assert user.last_message.text == "Это не ваш номер"


async def test_expect_and_wait_for_late_messages(world: EmulatorWorld, bot: Bot, running) -> None:
    user = world.user(telegram_id=1001)
    await user.send_text("привет")
    assert (await user.wait_for_message()).text == "привет"

    async def reminder_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(user.id, "Напоминание: приём завтра в 10:00")

    task = asyncio.create_task(reminder_later())
    message = await user.expect(text_contains="Напоминание", timeout=2)
    assert message.text is not None and message.text.endswith("10:00")
    await task
    with pytest.raises(AssertionError, match="no bot message containing 'нет такого'"):
        await user.expect("нет такого", timeout=0.1)


async def test_unanswered_callback_is_reported(world: EmulatorWorld, bot: Bot) -> None:
    """Without a handler answering, press() fails loudly: every callback must be answered."""
    from aiogram import Dispatcher

    user = world.user(telegram_id=1001)
    await user.send_text("hi", settle=False)
    sent = await bot.send_message(user.id, "x", reply_markup=None)
    async with polling(Dispatcher(), bot, world):
        user.timeout = 0.3
        with pytest.raises(AssertionError, match="answer the callback query"):
            await user.press_data(sent.message_id, "anything")


async def test_driver_settles_on_quiet_period_without_tracking(
    world: EmulatorWorld, bot: Bot
) -> None:
    async with polling(create_echo_dispatcher(), bot, world, track=False):
        user = world.user(telegram_id=1001)
        await user.send_command("/start")
        assert user.last_message.buttons == ["Запись к врачу", "Мои записи"]
        await user.press("Запись к врачу")
        assert user.last_message.text == "Вы выбрали пункт 1"
