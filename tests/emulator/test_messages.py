"""Sending, editing and deleting with Telegram's limits and error texts."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.emulator import EmulatorServer, EmulatorWorld
from bot.emulator.harness import emulator_bot


@pytest.fixture
async def user(world: EmulatorWorld):
    user = world.user(telegram_id=1001, first_name="Анна")
    await user.send_command("/start", settle=False)  # the bot may now write to them
    return user


def button(text: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)]]
    )


async def test_text_limit_counts_visible_text_not_html(bot: Bot, user) -> None:
    await bot.send_message(user.id, "<b>" + "я" * 4096 + "</b>", parse_mode="HTML")
    assert len(user.last_message.text) == 4096
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(user.id, "я" * 4097)


async def test_empty_text_after_trimming_is_refused(bot: Bot, user) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(user.id, "<b> </b>\n", parse_mode="HTML")


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, user) -> None:
    await bot.send_message(user.id, "ok", reply_markup=button("Да", "x" * 64))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "no", reply_markup=button("Да", "x" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "no", reply_markup=button("Да", "я" * 33))  # 66 bytes


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", 'unescaped "&"'),
        ('<span class="x">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
    ],
)
async def test_broken_html_is_refused(bot: Bot, user, html: str, detail: str) -> None:
    with pytest.raises(TelegramBadRequest) as error:
        await bot.send_message(user.id, html, parse_mode="HTML")
    assert error.value.message.startswith(f"Bad Request: can't parse entities: {detail}")


async def test_caption_limit(bot: Bot, user, tiny_png: bytes) -> None:
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(user.id, BufferedInputFile(tiny_png, "a.png"), caption="x" * 1025)


async def test_markup_and_protect_content_are_recorded(bot: Bot, user) -> None:
    await bot.send_message(
        user.id, "Результаты", reply_markup=button("Открыть", "open:1"), protect_content=True
    )
    message = user.last_message
    assert message.protect_content
    assert message.buttons == ["Открыть"]
    assert message.button("Открыть") == {"text": "Открыть", "callback_data": "open:1"}

    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Номер", request_contact=True)]])
    sent = await bot.send_message(user.id, "Телефон?", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram echoes only inline keyboards
    assert user.reply_keyboard == ["Номер"]
    assert user.last_message.reply_markup["keyboard"][0][0]["request_contact"] is True

    await bot.send_message(user.id, "Спасибо", reply_markup=ReplyKeyboardRemove())
    assert user.reply_keyboard == []


async def test_edit_text_and_markup(bot: Bot, user) -> None:
    sent = await bot.send_message(user.id, "Шаг 1", reply_markup=button("Дальше", "next"))
    edited = await bot.edit_message_text(
        "Шаг 2", chat_id=user.id, message_id=sent.message_id, reply_markup=button("Дальше", "next")
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    assert user.last_message.text == "Шаг 2"
    assert [(e.old_text, e.new_text) for e in user.edits] == [("Шаг 1", "Шаг 2")]

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Шаг 2",
            chat_id=user.id,
            message_id=sent.message_id,
            reply_markup=button("Дальше", "next"),
        )
    await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)
    assert user.last_message.buttons == []
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)


async def test_editing_a_missing_or_foreign_message_fails(bot: Bot, user) -> None:
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=user.id, message_id=999)
    users_own = user.sent[0].message_id
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=user.id, message_id=users_own)


async def test_delete_within_48_hours_only(world: EmulatorWorld, bot: Bot, user) -> None:
    fresh = await bot.send_message(user.id, "скоро исчезнет")
    old = await bot.send_message(user.id, "старое")
    world.clock.advance(47 * 3600)
    assert await bot.delete_message(user.id, fresh.message_id)
    assert [m.text for m in user.deleted] == ["скоро исчезнет"]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user.id, fresh.message_id)

    world.clock.advance(1 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be deleted"):
        await bot.delete_message(user.id, old.message_id)
    assert await bot.delete_messages(user.id, [old.message_id, 12345])  # skipped silently
    assert user.messages[-1].text == "старое"


async def test_blocked_and_deactivated_users_and_unknown_chats(
    world: EmulatorWorld, bot: Bot, user
) -> None:
    user.block_bot()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(user.id, "привет")
    user.unblock_bot()
    await bot.send_message(user.id, "снова привет")

    other = world.user(telegram_id=2002)
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(other.id, "привет")
    await other.send_text("hi", settle=False)
    other.deactivate()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: user is deactivated"):
        await bot.send_message(other.id, "привет")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(777, "кто здесь?")
    assert world.stats.forbidden == 3


async def test_blocking_produces_my_chat_member_update(
    world: EmulatorWorld, bot: Bot, user
) -> None:
    user.block_bot()
    updates = await bot.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"


async def test_unknown_method_and_wrong_token(server: EmulatorServer, bot: Bot) -> None:
    class Nonsense(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "doSomethingOdd"

    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot(Nonsense())

    await bot.get_me()  # binds the world to this bot's token
    impostor = emulator_bot(server, token="42:AAother")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await impostor.get_me()
    finally:
        await impostor.session.close()


async def test_get_me_derives_the_bot_from_the_token(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 1234567 and me.is_bot and me.username == "emk_test_bot"


async def test_commands_per_scope_and_language(bot: Bot) -> None:
    await bot.set_my_commands(
        [BotCommand(command="start", description="Начать")], language_code="ru"
    )
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["start"]
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start Now", description="x")])
    await bot.delete_my_commands(language_code="ru")
    assert await bot.get_my_commands(language_code="ru") == []


async def test_chat_action_and_callback_answer_errors(bot: Bot, user) -> None:
    assert await bot.send_chat_action(user.id, "typing")
    assert user.chat_actions[-1].action == "typing"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("nope")
