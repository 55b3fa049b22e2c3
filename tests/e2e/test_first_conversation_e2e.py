"""A person's first minutes with the bot, through real HTTP long polling."""

from __future__ import annotations

import pytest

from bot.offline import OfflineStack
from tests.e2e.helpers import last_text

pytestmark = pytest.mark.e2e


async def test_start_language_consent_menu(stack: OfflineStack) -> None:
    user = stack.world.user(5001, "Анна", language_code="ru")
    await user.send_command("/start")
    assert "Выберите язык" in last_text(user)
    await user.press("🇷🇺 Русский")
    assert "Согласие на обработку персональных данных" in last_text(user)
    await user.press("✅ Даю согласие")
    assert "Согласие записано" in last_text(user)
    assert "🔒 Мои данные" in user.reply_keyboard
    # The command menu was set in both languages.
    assert stack.world.commands


async def test_english_user_and_language_switch(stack: OfflineStack) -> None:
    user = stack.world.user(5002, "John", language_code="en")
    await user.send_command("/start")
    await user.press("🇬🇧 English")
    assert "Consent to the processing of personal data" in last_text(user)
    await user.press("✅ I agree")
    await user.send_command("/language")
    await user.press("🇷🇺 Русский")
    assert "Готово" in last_text(user)


async def test_cancel_and_unknown_text(stack: OfflineStack) -> None:
    user = stack.world.user(5003, "Олег")
    await user.send_command("/cancel")
    assert "Отменять нечего" in last_text(user) or "Nothing to cancel" in last_text(user)
    await user.send_command("/start")
    await user.press("🇷🇺 Русский")
    await user.press("✅ Даю согласие")
    await user.send_text("абракадабра")
    assert "Не понял вас" in last_text(user)


async def test_stale_and_forged_buttons_get_an_honest_answer(stack: OfflineStack) -> None:
    user = stack.world.user(5004, "Ирина")
    await user.send_command("/start")
    language_message = user.last_message
    await user.press("🇷🇺 Русский")
    await user.press("✅ Даю согласие")
    # A forged callback that no handler knows, on an old message.
    answer = await user.press_data(language_message.message_id, "xx:forged:999")
    assert answer.text is not None and "устарела" in answer.text
    # A forged language code is refused, the saved language stays.
    answer = await user.press_data(language_message.message_id, "lang:de")
    assert answer.text is not None and "устарела" in answer.text
