"""Shared by the policies flow tests (tests/unit/test_policies_flow_*.py): the app keys they
derive requester ids with, and a look at what the FSM keeps for a chat (ids only, never a
policy, birth date or code)."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey

from bot.keys import AppKeys
from tests.conftest import TEST_KEY

KEYS = AppKeys(TEST_KEY)


async def fsm_data(dispatcher: Dispatcher, bot: Bot, telegram_id: int) -> dict[str, object]:
    key = StorageKey(bot_id=bot.id, chat_id=telegram_id, user_id=telegram_id)
    return await dispatcher.storage.get_data(key)
