"""The MAX front end as a person uses it, through the offline MAX emulator (maxapi polling it
over HTTP) on the sandbox: the same flows as Telegram, rendered with inline buttons only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram.fsm.storage.base import DEFAULT_DESTINY
from sqlalchemy import select

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import MAX, User
from bot.max_emulator import MaxWorld
from bot.max_emulator.driver import MaxUserDriver
from bot.settings import Settings
from max_channel.offline import offline_max_stack
from max_channel.render import TEXT_LIMIT, split_text
from max_channel.turn import DESTINY


@dataclass
class MaxStack:
    world: MaxWorld
    sessionmaker: SessionMaker

    def person(self, user_id: int = 5001, name: str = "Анна") -> MaxUserDriver:
        return self.world.user(user_id, name, phone="+79990000001")


@pytest.fixture
async def max_stack(
    e2e_settings: Settings, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> AsyncIterator[MaxStack]:
    async with offline_max_stack(e2e_settings, backend=sandbox, clock=sandbox_clock) as stack:
        yield MaxStack(stack.world, stack.app.sessionmaker)


def last(person: MaxUserDriver) -> str:
    return person.last_message.text or ""


async def _consented(stack: MaxStack, language: str = "🇬🇧 English") -> MaxUserDriver:
    person = stack.person()
    await person.start()
    assert last(person) == "Выберите язык / Choose your language:"
    await person.press(language)
    await person.press("✅ I agree" if "English" in language else "✅ Даю согласие")
    return person


async def test_first_conversation_ends_at_the_menu_as_inline_buttons(max_stack: MaxStack) -> None:
    person = await _consented(max_stack)
    assert "Consent recorded" in last(person)
    # MAX has no reply keyboard: the main menu comes as inline buttons under the message.
    assert person.last_message.button("🩺 Medical record") is not None
    assert person.last_message.button("🔔 Notifications") is not None
    assert "Language changed" in person.notifications
    async with max_stack.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.channel == MAX))
    assert user is not None and user.telegram_id == person.user_id and user.has_consent


async def test_the_menu_opens_the_same_screens_as_on_telegram(max_stack: MaxStack) -> None:
    person = await _consented(max_stack)
    await person.press("🔔 Notifications")
    assert "Notification" in last(person)
    await person.press("🔒 Privacy")
    assert "consent" in last(person).lower()
    await person.send_text("/help")
    assert "What this bot does" in last(person)
    await person.press("👨‍👩‍👧 My people")
    assert person.last_message.button("⬅️ Back") is not None or person.last_message.buttons


async def test_russian_is_the_default_and_typed_menu_labels_work(max_stack: MaxStack) -> None:
    person = await _consented(max_stack, "🇷🇺 Русский")
    assert "Согласие записано" in last(person)
    await person.send_text("❓ Помощь")
    assert "Что умеет бот" in last(person)


async def test_before_consent_a_press_is_refused_and_text_asks_for_consent(
    max_stack: MaxStack,
) -> None:
    person = max_stack.person()
    await person.start()
    await person.press("🇬🇧 English")
    await person.press_payload(person.last_message, "menu:records")
    assert person.notifications[-1] == "Please give consent first: send /start."
    await person.send_text("hello")
    assert person.last_message.button("✅ I agree") is not None


async def test_forged_and_stale_buttons_get_words_and_change_nothing(max_stack: MaxStack) -> None:
    person = await _consented(max_stack)
    await person.press_payload(person.last_message, "ppl:uc:999999")
    await person.press_payload(person.last_message, "no-such-button")
    await person.press_payload(person.last_message, "ns:zz:1")
    assert person.notifications[-3:] == [
        "This person is not in your list. Open My people.",  # a row that is not theirs
        "This button is out of date. Use the menu.",
        "This button is out of date. Use the menu.",
    ]


async def test_a_policy_number_nobody_asked_for_is_deleted_from_the_chat(
    max_stack: MaxStack,
) -> None:
    person = await _consented(max_stack)
    typed = await person.send_text("1234 5678 9012 3456")
    assert typed.mid in {m.mid for m in person.deleted}
    assert "looks like a policy number" in last(person)


def test_max_conversations_never_share_telegrams_fsm_keys() -> None:
    assert DESTINY != DEFAULT_DESTINY


def test_long_text_is_cut_at_line_breaks_within_the_limit() -> None:
    text = "\n".join(f"line {n:05d} " + "x" * 60 for n in range(200))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(p) <= TEXT_LIMIT for p in parts)
    assert "\n".join(parts) == text
    assert split_text("y" * (TEXT_LIMIT + 5)) == ["y" * TEXT_LIMIT, "y" * 5]


async def test_presses_and_messages_over_the_flood_limit_get_words(
    settings: Settings, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    """As on Telegram (3 a second, a burst of 6): a dropped press is told to press again, a
    dropped message gets a notice once in a while, a dropped policy number is still deleted.
    (Said in the language MAX reports, before the database is asked: here the default, ru.)"""
    async with offline_max_stack(settings, backend=sandbox, clock=sandbox_clock) as stack:
        person = stack.world.user(5009, "Глеб")
        await person.start()
        await person.press("🇬🇧 English")
        for _ in range(6):  # the frozen clock refills nothing: the burst runs out
            await person.press_payload(person.last_message, "no-such-button")
        assert (
            person.notifications[-1]
            == "Слишком много нажатий: подождите секунду и нажмите ещё раз."
        )
        typed = await person.send_text("1234 5678 9012 3456")
        assert typed.mid in {m.mid for m in person.deleted}
        assert last(person).startswith("Слишком быстро")
        sandbox_clock.advance(seconds=2)  # a person waits a moment: heard again
        await person.send_text("/help")
        assert "What this bot does" in last(person) or "Что умеет бот" in last(person)


async def test_stopping_the_bot_stops_notifications_and_starting_it_again_is_coming_back(
    max_stack: MaxStack,
) -> None:
    person = await _consented(max_stack)
    await person.stop()

    async def blocked_at() -> object:
        async with max_stack.sessionmaker() as session:
            user = await session.scalar(select(User).where(User.channel == MAX))
            assert user is not None
            return user.blocked_at

    assert await blocked_at() is not None  # the worker skips a person who stopped the bot
    await person.start()
    assert await blocked_at() is None
    assert "Welcome back!" in last(person)


async def test_a_picture_or_a_voice_message_is_answered_plainly(max_stack: MaxStack) -> None:
    person = await _consented(max_stack)
    await person.send_file(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "photo.png", mime_type="image/png")
    assert last(person).startswith("I cannot listen to voice messages")
    assert person.last_message.button("📅 Book a doctor") is not None  # and the menu
