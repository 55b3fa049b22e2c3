"""Builders of Telegram updates as users produce them."""

from __future__ import annotations

import itertools

from aiogram.types import CallbackQuery, Chat, Contact, Message, MessageEntity, Update, User

from tests.sandbox_fixtures import TEST_NOW

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def tg_user(user_id: int = 1001, language_code: str | None = "ru") -> User:
    return User(id=user_id, is_bot=False, first_name="Тест", language_code=language_code)


def text_update(text: str, user: User | None = None) -> Update:
    user = user or tg_user()
    entities = None
    if text.startswith("/"):
        entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
    message = Message(
        message_id=next(_message_ids),
        date=TEST_NOW,
        chat=Chat(id=user.id, type="private"),
        from_user=user,
        text=text,
        entities=entities,
    )
    return Update(update_id=next(_update_ids), message=message)


def contact_update(
    phone: str, user: User | None = None, contact_user_id: int | None = None
) -> Update:
    user = user or tg_user()
    message = Message(
        message_id=next(_message_ids),
        date=TEST_NOW,
        chat=Chat(id=user.id, type="private"),
        from_user=user,
        contact=Contact(phone_number=phone, first_name="Тест", user_id=contact_user_id),
    )
    return Update(update_id=next(_update_ids), message=message)


def callback_update(data: str, user: User | None = None, message_id: int = 1) -> Update:
    user = user or tg_user()
    message = Message(
        message_id=message_id,
        date=TEST_NOW,
        chat=Chat(id=user.id, type="private"),
        text="…",
    )
    query = CallbackQuery(
        id=str(next(_update_ids)), from_user=user, chat_instance="ci", data=data, message=message
    )
    return Update(update_id=next(_update_ids), callback_query=query)
