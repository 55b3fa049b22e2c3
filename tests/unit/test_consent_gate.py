"""Consent (152-FZ) gates every feature; a few commands stay open; it can be withdrawn and the
user's data deleted."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import CallbackQuery, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from sqlalchemy import func, select

from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.settings import Settings
from keyboards.privacy import PrivacyAction, PrivacyCb
from keyboards.start import ConsentAction, ConsentCb, LanguageCb
from tests.recording_bot import RecordingSession
from tests.unit.chat import Chat, alerts, gated_router, joined, texts
from tests.updates import tg_user

CONSENT_PROMPT = "Consent to the processing of personal data"
ACCEPT = ConsentCb(action=ConsentAction.ACCEPT).pack()


class FeatureCb(CallbackData, prefix="feat"):
    item: int


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # These conversations are faster than any person; throttling has its own tests.
    settings.app.throttle_per_second = 1000.0
    return settings


@pytest.fixture
def feature_calls(dispatcher: Dispatcher) -> list[str]:
    """A stand-in feature router, included where real features go (behind consent)."""
    calls: list[str] = []
    router = Router(name="test-feature")

    @router.message(F.text == "show my records")
    async def feature_message(message: Message) -> None:
        calls.append("message")
        await message.answer("FEATURE SCREEN")

    @router.callback_query(FeatureCb.filter())
    async def feature_button(query: CallbackQuery) -> None:
        calls.append("button")
        await query.answer("FEATURE BUTTON")

    gated_router(dispatcher).include_router(router)
    return calls


@pytest.fixture
def chat(dispatcher: Dispatcher, bot_and_session: tuple[Bot, RecordingSession]) -> Chat:
    bot, session = bot_and_session
    return Chat(dispatcher, bot, session, tg_user(3001, language_code="en"))


async def _choose_english(chat: Chat) -> None:
    await chat.send("/start")
    replies = await chat.press(LanguageCb(code="en").pack())
    assert CONSENT_PROMPT in joined(replies)


async def _row(sessionmaker: SessionMaker, telegram_id: int) -> User | None:
    async with sessionmaker() as db:
        return await db.scalar(select(User).where(User.telegram_id == telegram_id))


async def test_before_consent_only_open_commands_answer(
    chat: Chat, feature_calls: list[str]
) -> None:
    await _choose_english(chat)

    assert CONSENT_PROMPT in joined(await chat.send("/start"))
    assert "What this bot does" in joined(await chat.send("/help"))
    assert "Choose your language" in joined(await chat.send("/language"))
    assert joined(await chat.send("/cancel")) == "Nothing to cancel. Send /start to begin."
    privacy = joined(await chat.send("/privacy"))
    assert "What the bot keeps about you" in privacy and "consent given: no" in privacy
    # The menu is not shown to someone who has not agreed.
    replies = await chat.send("/help")
    assert not any(
        isinstance(getattr(r, "reply_markup", None), ReplyKeyboardMarkup) for r in replies
    )

    for text in ("show my records", "hello", "/records", "🔒 Privacy!"):
        replies = await chat.send(text)
        assert len(replies) == 1 and CONSENT_PROMPT in joined(replies), text
    assert feature_calls == []


async def test_a_brand_new_user_is_sent_to_start(chat: Chat, feature_calls: list[str]) -> None:
    replies = await chat.send("show my records")
    assert texts(replies) == ["Send /start to begin."]
    assert feature_calls == []


async def test_forged_or_stale_buttons_before_consent_get_an_alert(
    chat: Chat, feature_calls: list[str]
) -> None:
    await _choose_english(chat)
    for data in (FeatureCb(item=7).pack(), "rec:123", "garbage"):
        replies = await chat.press(data)
        assert len(replies) == 1, data
        [answer] = alerts(replies)
        assert answer.show_alert is True
        assert answer.text == "Please give consent first: send /start."
    assert feature_calls == []

    # A language button with a code the bot does not have is out of date, not a crash.
    [answer] = alerts(await chat.press(LanguageCb(code="xx").pack()))
    assert answer.show_alert is True and answer.text == "This button is out of date."


async def test_after_consent_the_menu_and_features_work(
    chat: Chat, feature_calls: list[str], sessionmaker: SessionMaker
) -> None:
    await _choose_english(chat)
    replies = await chat.press(ACCEPT)
    assert alerts(replies)[0].text == "Thank you"
    menu = [r for r in replies if isinstance(r, SendMessage)]
    assert menu and menu[-1].text == "Consent recorded. Choose what to do:"
    markup = menu[-1].reply_markup
    assert isinstance(markup, ReplyKeyboardMarkup)
    buttons = [button.text for row in markup.keyboard for button in row]
    assert {"🔒 Privacy", "🌐 Language", "❓ Help"} <= set(buttons)

    assert "What this bot does" in joined(await chat.send("❓ Help"))
    assert "consent given: yes" in joined(await chat.send("🔒 Privacy"))
    assert "Choose your language" in joined(await chat.send("🌐 Language"))
    assert texts(await chat.send("show my records")) == ["FEATURE SCREEN"]
    assert texts(await chat.press(FeatureCb(item=1).pack())) == ["FEATURE BUTTON"]
    assert feature_calls == ["message", "button"]

    [answer] = alerts(await chat.press("garbage"))
    assert answer.show_alert is True and answer.text == "This button is out of date. Use the menu."
    assert "I did not understand that" in joined(await chat.send("hello"))
    assert "Welcome back" in joined(await chat.send("/start"))

    row = await _row(sessionmaker, 3001)
    assert row is not None and row.has_consent and row.consent_version


async def test_withdrawing_consent_closes_the_gate(
    chat: Chat, feature_calls: list[str], sessionmaker: SessionMaker
) -> None:
    await _choose_english(chat)
    await chat.press(ACCEPT)
    assert texts(await chat.send("show my records")) == ["FEATURE SCREEN"]

    ask = await chat.press(PrivacyCb(action=PrivacyAction.WITHDRAW).pack())
    assert any(
        isinstance(r, EditMessageText) and (r.text or "").startswith("Withdraw consent?")
        for r in ask
    )
    # "No, keep it" changes nothing.
    assert alerts(await chat.press(PrivacyCb(action=PrivacyAction.KEEP).pack()))[0].text == (
        "Nothing changed"
    )
    assert texts(await chat.send("show my records")) == ["FEATURE SCREEN"]

    replies = await chat.press(PrivacyCb(action=PrivacyAction.WITHDRAW_CONFIRM).pack())
    assert alerts(replies)[0].text == "Consent withdrawn"
    hidden = [r for r in replies if isinstance(r, SendMessage)]
    assert hidden and isinstance(hidden[-1].reply_markup, ReplyKeyboardRemove)

    replies = await chat.send("show my records")
    assert CONSENT_PROMPT in joined(replies)
    [answer] = alerts(await chat.press(FeatureCb(item=2).pack()))
    assert answer.text == "Please give consent first: send /start."
    assert feature_calls == ["message", "message"]
    row = await _row(sessionmaker, 3001)
    assert row is not None and not row.has_consent and row.consent_withdrawn_at is not None

    # Agreeing again reopens it.
    await chat.press(ACCEPT)
    assert texts(await chat.send("show my records")) == ["FEATURE SCREEN"]


async def test_forget_deletes_the_user_row(
    chat: Chat, dispatcher: Dispatcher, sessionmaker: SessionMaker
) -> None:
    await _choose_english(chat)
    await chat.press(ACCEPT)
    other = Chat(chat.dispatcher, chat.bot, chat.session, tg_user(3002, language_code="en"))
    await other.send("/start")
    context = dispatcher.fsm.get_context(chat.bot, chat.user.id, chat.user.id)
    await context.set_state("some:flow")
    await context.update_data(step=1)

    replies = await chat.send("/forget")
    assert texts(replies) == ["Delete everything the bot keeps about you? This cannot be undone."]
    # Not yet: asking is not deleting.
    assert await _row(sessionmaker, 3001) is not None

    replies = await chat.press(PrivacyCb(action=PrivacyAction.FORGET_CONFIRM).pack())
    assert alerts(replies)[0].text == "Deleted"
    assert "has been deleted" in joined(replies)

    assert await _row(sessionmaker, 3001) is None
    assert await _row(sessionmaker, 3002) is not None  # nobody else's
    assert await context.get_state() is None and await context.get_data() == {}
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(User)) == 1

    # Coming back starts from scratch: language first, no consent carried over.
    assert "Choose your language" in joined(await chat.send("/start"))
    row = await _row(sessionmaker, 3001)
    assert row is not None and row.language is None and not row.has_consent


async def test_forget_from_the_privacy_screen(chat: Chat, sessionmaker: SessionMaker) -> None:
    await _choose_english(chat)
    await chat.press(ACCEPT)
    replies = await chat.press(PrivacyCb(action=PrivacyAction.FORGET).pack())
    assert any(
        isinstance(r, EditMessageText) and "cannot be undone" in (r.text or "") for r in replies
    )
    await chat.press(PrivacyCb(action=PrivacyAction.KEEP).pack())
    assert await _row(sessionmaker, 3001) is not None
    await chat.press(PrivacyCb(action=PrivacyAction.FORGET_CONFIRM).pack())
    assert await _row(sessionmaker, 3001) is None


async def test_declining_consent_keeps_the_gate_closed(
    chat: Chat, feature_calls: list[str], sessionmaker: SessionMaker
) -> None:
    await _choose_english(chat)
    replies = await chat.press(ConsentCb(action=ConsentAction.DECLINE).pack())
    assert "Without consent the bot cannot work" in joined(replies)
    assert CONSENT_PROMPT in joined(await chat.send("show my records"))
    assert feature_calls == []
    row = await _row(sessionmaker, 3001)
    assert row is not None and row.consent_given_at is None
