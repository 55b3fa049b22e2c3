"""The settings screen: what a person sees and what their taps change."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.db.notifications_models import NotificationPrefs
from bot.flows.notification_settings import SetAction
from bot.services.notifications.settings import load_prefs
from bot.settings import Settings
from keyboards.notifications import NotifySetCb
from tests.conftest import unthrottled
from tests.recording_bot import RecordingSession
from tests.unit.chat import Chat
from tests.unit.policies_support import consenting_user


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return unthrottled(settings)


def buttons(request: Any) -> list[str]:
    markup = request.reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    return [b.text for row in markup.inline_keyboard for b in row]


async def test_switches_quiet_hours_and_reminder_times(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    sessionmaker: SessionMaker,
    clock: FrozenClock,
) -> None:
    bot, recording = bot_and_session
    tg = await consenting_user(sessionmaker, 8101, "Анна")
    chat = Chat(dispatcher, bot, recording, tg)

    (shown,) = [r for r in await chat.send("🔔 Уведомления") if isinstance(r, SendMessage)]
    assert "Уведомления" in shown.text
    assert buttons(shown) == [
        "✅ Новые результаты",
        "✅ Напоминания о приёмах",
        "✅ Перенос и отмена записей поликлиникой",
        "✅ Свободное время по отслеживаниям",
        "🌙 Тихие часы: 22:00–08:00",
        "⏰ Напоминать до приёма: 1 день, 2 часа",
    ]

    edited = await chat.press(NotifySetCb(action=SetAction.SWITCH, value="results").pack())
    (edit,) = [r for r in edited if isinstance(r, EditMessageText)]
    assert buttons(edit)[0] == "▫️ Новые результаты"

    clock.advance(minutes=3)  # the last change is stamped with the bot's clock, not the real one
    await chat.press(NotifySetCb(action=SetAction.QUIET_START, value="1380").pack())
    await chat.press(NotifySetCb(action=SetAction.QUIET_END, value="420").pack())
    await chat.press(NotifySetCb(action=SetAction.OFFSET_TOGGLE, value="120").pack())
    await chat.press(NotifySetCb(action=SetAction.OFFSET_TOGGLE, value="60").pack())
    forged = await chat.press(NotifySetCb(action=SetAction.OFFSET_TOGGLE, value="7").pack())
    assert any(getattr(r, "show_alert", False) for r in forged)

    async with sessionmaker() as db:
        user = await db.scalar(select(User).where(User.telegram_id == 8101))
        assert user is not None
        prefs = await load_prefs(db, user.id)
        row = await db.get(NotificationPrefs, user.id)
    assert row is not None and row.updated_at == clock()
    assert not prefs.results and prefs.reminders
    assert (prefs.quiet.start, prefs.quiet.end) == (23 * 60, 7 * 60)
    assert prefs.offsets == (1440, 60)
