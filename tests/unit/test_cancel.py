"""/cancel leaves any flow, in any state, and says so."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import ReplyKeyboardMarkup

from keyboards.start import ConsentAction, ConsentCb, LanguageCb
from tests.recording_bot import RecordingSession
from tests.unit.chat import Chat, texts
from tests.updates import tg_user


@pytest.fixture
def chat(dispatcher: Dispatcher, bot_and_session: tuple[Bot, RecordingSession]) -> Chat:
    bot, session = bot_and_session
    return Chat(dispatcher, bot, session, tg_user(4001, language_code="en"))


def _context(chat: Chat) -> FSMContext:
    return chat.dispatcher.fsm.get_context(chat.bot, chat.user.id, chat.user.id)


async def _consent(chat: Chat) -> None:
    await chat.send("/start")
    await chat.press(LanguageCb(code="en").pack())
    await chat.press(ConsentCb(action=ConsentAction.ACCEPT).pack())


async def test_cancel_inside_a_flow_clears_it_and_shows_the_menu(chat: Chat) -> None:
    await _consent(chat)
    context = _context(chat)
    await context.set_state("linking:policy")
    await context.update_data(draft_id=17)

    replies = await chat.send("/cancel")

    assert texts(replies) == ["Cancelled."]
    [reply] = replies
    assert isinstance(reply, SendMessage)
    assert isinstance(reply.reply_markup, ReplyKeyboardMarkup)  # the way home
    assert await context.get_state() is None
    assert await context.get_data() == {}


async def test_cancel_with_nothing_to_cancel(chat: Chat) -> None:
    await _consent(chat)
    replies = await chat.send("/cancel")
    assert texts(replies) == ["Nothing to cancel."]
    assert await _context(chat).get_state() is None


async def test_cancel_before_consent_points_to_start(chat: Chat) -> None:
    await chat.send("/start")
    await chat.press(LanguageCb(code="en").pack())
    context = _context(chat)
    await context.set_state("anything:at_all")

    replies = await chat.send("/cancel")

    assert texts(replies) == ["Cancelled. Send /start to begin."]
    [reply] = replies
    assert isinstance(reply, SendMessage)
    assert reply.reply_markup is None  # no menu for someone who has not agreed
    assert await context.get_state() is None
    assert texts(await chat.send("/cancel")) == ["Nothing to cancel. Send /start to begin."]


async def test_cancel_speaks_the_users_language(chat: Chat) -> None:
    await _consent(chat)
    await chat.press(LanguageCb(code="ru").pack())
    await _context(chat).set_state("linking:policy")
    assert texts(await chat.send("/cancel")) == ["Отменено."]
    assert texts(await chat.send("/cancel")) == ["Отменять нечего."]


async def test_cancel_only_touches_its_own_user(chat: Chat) -> None:
    await _consent(chat)
    other = Chat(chat.dispatcher, chat.bot, chat.session, tg_user(4002, language_code="en"))
    theirs = _context(other)
    await theirs.set_state("linking:policy")
    await _context(chat).set_state("linking:code")

    await chat.send("/cancel")

    assert await _context(chat).get_state() is None
    assert await theirs.get_state() == "linking:policy"
