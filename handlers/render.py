"""The Telegram renderer of neutral screens (`bot.flows.screens`): inline keyboards from the
buttons' ids, protect_content where a screen asks for it, an edit or a popup by placement."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.flows.screens import Placement, Screen
from keyboards.inline import inline_markup
from keyboards.menu import menu_keyboard


def inline_keyboard(screen: Screen) -> InlineKeyboardMarkup | None:
    return inline_markup(screen.rows)


def reply_keyboard(screen: Screen) -> ReplyKeyboardMarkup | None:
    """The main menu as Telegram's persistent keyboard: its texts come back as messages."""
    return None if screen.menu is None else menu_keyboard(screen.menu)


def _markup(
    screen: Screen,
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if screen.remove_reply_keyboard:
        return ReplyKeyboardRemove()
    return reply_keyboard(screen) or inline_keyboard(screen)


async def send(message: Message, screen: Screen) -> None:
    """A screen as a new message in the chat of `message`."""
    markup = _markup(screen)
    if screen.file is not None:
        # A chart is a photo (seen in the chat); anything else a document to save.
        answer_file = (
            message.answer_photo
            if screen.file.mime.startswith("image/")
            else message.answer_document
        )
        await answer_file(
            BufferedInputFile(screen.file.data, screen.file.name),
            caption=screen.text or None,
            reply_markup=markup,
            protect_content=screen.protect,
        )
        return
    await message.answer(screen.text, reply_markup=markup, protect_content=screen.protect)


async def send_all(message: Message, screens: Sequence[Screen]) -> None:
    """A flow's answer to a message: each screen a new message, in order."""
    for screen in screens:
        await send(message, screen)


async def answer_all(query: CallbackQuery, screens: Sequence[Screen]) -> None:
    """A flow's answer to a button: the popup (if any) answers the press, the pressed message
    loses its buttons or is edited where asked, the rest are new messages, in order."""
    popup = next((s for s in screens if s.placement in (Placement.POPUP, Placement.ALERT)), None)
    if popup is None:
        await query.answer()
    else:
        await query.answer(popup.text, show_alert=popup.placement is Placement.ALERT)
    if not isinstance(query.message, Message):
        return
    for screen in screens:
        if screen.placement in (Placement.POPUP, Placement.ALERT):
            continue
        if screen.placement is Placement.STRIP:
            await query.message.edit_reply_markup(reply_markup=None)
        elif screen.placement is Placement.EDIT and screen.file is None:
            await _edit_or_send(query.message, screen)
        else:
            await send(query.message, screen)


async def _edit_or_send(message: Message, screen: Screen) -> None:
    """Replace the message's text: the same text again changes nothing; a message Telegram
    will not edit (too old, or a photo without text) gets the screen as a new one."""
    if message.text is None:
        await send(message, screen)
        return
    try:
        await message.edit_text(screen.text, reply_markup=inline_keyboard(screen))
    except TelegramBadRequest as error:
        if "not modified" not in str(error):
            await send(message, screen)
