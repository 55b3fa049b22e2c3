"""The Telegram renderer of neutral screens (`bot.flows.screens`): inline keyboards from the
buttons' ids, protect_content where a screen asks for it, an edit or a popup by placement."""

from __future__ import annotations

from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)

from bot.flows.screens import Placement, Screen


def inline_keyboard(screen: Screen) -> InlineKeyboardMarkup | None:
    if not screen.rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.action) for b in row]
            for row in screen.rows
        ]
    )


async def send(message: Message, screen: Screen) -> None:
    """A screen as a new message in the chat of `message`."""
    markup = ReplyKeyboardRemove() if screen.remove_reply_keyboard else inline_keyboard(screen)
    if screen.file is not None:
        await message.answer_document(
            BufferedInputFile(screen.file.data, screen.file.name),
            caption=screen.text or None,
            reply_markup=markup,
            protect_content=screen.protect,
        )
        return
    await message.answer(screen.text, reply_markup=markup, protect_content=screen.protect)


async def answer(query: CallbackQuery, screen: Screen) -> None:
    """A screen in answer to a button: a popup, an edit of the pressed message, or a new one."""
    if screen.placement in (Placement.POPUP, Placement.ALERT):
        await query.answer(screen.text, show_alert=screen.placement is Placement.ALERT)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if screen.placement is Placement.EDIT and screen.file is None:
        await query.message.edit_text(screen.text, reply_markup=inline_keyboard(screen))
        return
    await send(query.message, screen)
