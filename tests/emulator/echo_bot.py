"""A tiny aiogram bot used to prove the whole loop works over HTTP."""

from __future__ import annotations

import html

from aiogram import Dispatcher, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)


class Pick(CallbackData, prefix="pk"):
    item: int


def menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Запись к врачу", callback_data=Pick(item=1).pack()),
                InlineKeyboardButton(text="Мои записи", callback_data=Pick(item=2).pack()),
            ]
        ]
    )


def create_echo_dispatcher() -> Dispatcher:
    router = Router(name="echo")

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("<b>Здравствуйте!</b> Выберите действие:", reply_markup=menu())

    @router.message(Command("phone"))
    async def ask_phone(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Поделиться номером", request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await message.answer("Нужен ваш номер", reply_markup=keyboard)

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None and message.from_user is not None
        own = message.contact.user_id == message.from_user.id
        text = "Номер получен" if own else "Это не ваш номер"
        await message.answer(text, reply_markup=ReplyKeyboardRemove())

    @router.callback_query(Pick.filter())
    async def picked(query: CallbackQuery, callback_data: Pick) -> None:
        if callback_data.item not in (1, 2):
            await query.answer("Кнопка устарела", show_alert=True)
            return
        await query.answer(f"Выбрано {callback_data.item}")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Вы выбрали пункт {callback_data.item}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(html.escape(message.text or ""))

    dp = Dispatcher()
    dp.include_router(router)
    return dp
