"""The first conversation on PostgreSQL and Redis: what the SQLite unit test checks, for real."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from sqlalchemy import select

from bot.db.engine import SessionMaker
from bot.db.models import User
from keyboards.start import ConsentAction, ConsentCb, LanguageCb
from tests.recording_bot import RecordingSession
from tests.updates import callback_update, text_update, tg_user


async def test_start_language_consent_menu(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    sessionmaker: SessionMaker,
) -> None:
    assert isinstance(dispatcher.fsm.storage, RedisStorage)
    assert isinstance(dispatcher.fsm.events_isolation, RedisEventIsolation)
    bot, session = bot_and_session
    user = tg_user(2001, language_code="en")

    await dispatcher.feed_update(bot, text_update("/start", user))
    assert "Choose your language" in session.texts()[-1]

    await dispatcher.feed_update(bot, callback_update(LanguageCb(code="ru").pack(), user))
    assert session.sent("answerCallbackQuery")
    assert "Согласие на обработку персональных данных" in session.texts()[-1]

    # Before consent, features do not answer; the consent prompt comes back instead.
    await dispatcher.feed_update(bot, text_update("hello", user))
    assert "Согласие на обработку" in session.texts()[-1]

    await dispatcher.feed_update(
        bot, callback_update(ConsentCb(action=ConsentAction.ACCEPT).pack(), user)
    )
    assert "Согласие записано" in session.texts()[-1]

    async with sessionmaker() as db:
        row = await db.scalar(select(User).where(User.telegram_id == 2001))
    assert row is not None and row.language == "ru" and row.consent_given_at is not None
    # Times come back as aware UTC from a timestamptz column.
    assert row.consent_given_at.utcoffset() is not None
    assert row.created_at <= row.consent_given_at

    # The same user coming back is welcomed, not asked again; one row, not two.
    await dispatcher.feed_update(bot, text_update("/start", user))
    assert "С возвращением" in session.texts()[-1]
    async with sessionmaker() as db:
        rows = (await db.scalars(select(User).where(User.telegram_id == 2001))).all()
    assert len(rows) == 1
