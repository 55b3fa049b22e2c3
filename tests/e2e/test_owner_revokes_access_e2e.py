"""The owner takes access back, in Russian, through the real bot and emulator:
a confirmation first, a grammatical result, the list refreshed; after withdrawing consent too;
"who viewed my card" from "My data"."""

from __future__ import annotations

import pytest

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.simulation import Persona
from bot.clock import FrozenClock
from bot.emulator import UserDriver
from bot.offline import OfflineStack
from tests.e2e.helpers import last_text
from tests.e2e.people import code_sent_to, persona

pytestmark = pytest.mark.e2e


async def russian_user(stack: OfflineStack, telegram_id: int, name: str, phone: str) -> UserDriver:
    user = stack.world.user(telegram_id, name, language_code="ru", phone=phone)
    await user.send_command("/start")
    await user.press("🇷🇺 Русский")
    await user.press("✅ Даю согласие")
    return user


async def link_own(user: UserDriver, sandbox: SandboxBackend, me: Persona) -> None:
    await user.press("👨‍👩‍👧 Мои люди")
    await user.press("➕ Мой полис")
    if "📱 Поделиться номером телефона" in user.reply_keyboard:
        await user.press("📱 Поделиться номером телефона")
    await user.send_text(me.policy)
    await user.send_text(f"{me.birth_date:%d.%m.%Y}")
    await user.send_text(await code_sent_to(sandbox, me.phone))
    assert "ваша медкарта привязана" in last_text(user)


async def family(
    stack: OfflineStack, sandbox: SandboxBackend, clock: FrozenClock, base: int
) -> tuple[UserDriver, UserDriver]:
    """Галина links her card; Анна (her own card linked, so she is "Анна С.") links Галина's
    with the code from Галина's SMS; Галина gets the alert."""
    galina, anna = await persona(sandbox, "elderly_mother"), await persona(sandbox, "mother")
    owner = await russian_user(stack, base, "Галина", galina.phone)
    await link_own(owner, sandbox, galina)
    daughter = await russian_user(stack, base + 1, "Анна", anna.phone)
    await link_own(daughter, sandbox, anna)
    clock.advance(seconds=61)  # one code a minute
    await daughter.press("👨‍👩‍👧 Мои люди")
    await daughter.press("➕ Полис родственника")
    await daughter.send_text("Мама")
    await daughter.send_text(galina.policy)
    await daughter.send_text(f"{galina.birth_date:%d.%m.%Y}")
    await daughter.press("Запись к врачу и медкарта")
    await daughter.press("6 месяцев")
    await daughter.send_text(await code_sent_to(sandbox, galina.phone))
    assert "теперь в разделе «Мои люди»" in last_text(daughter)
    await owner.wait_for_message()
    assert "Кто-то получил доступ" in last_text(owner)
    return owner, daughter


async def test_revoke_asks_first_and_refreshes_the_list(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    owner, daughter = await family(stack, sandbox, sandbox_clock, 8100)
    await owner.press("🔑 У кого есть доступ")
    listing = owner.last_message
    assert "Анна С." in (listing.text or "")

    await owner.press("❌ Отозвать: Анна С.")
    assert owner.last_message.message_id == listing.message_id  # the list became the question
    question = last_text(owner)
    assert question.startswith("Отозвать доступ к вашей медкарте?")
    assert "Анна С." in question
    await owner.press("Нет, оставить доступ")
    assert "1 из 5" in last_text(owner)

    await owner.press("❌ Отозвать: Анна С.")
    await owner.press("Да, отозвать")
    done = last_text(owner)
    assert done.startswith("✅ Доступ отозван: Анна С.\n")
    assert "Доступ для" not in done and "Ни у кого, кроме вас" in done
    assert owner.last_message.button("❌ Отозвать: Анна С.") is None

    await daughter.press("👨‍👩‍👧 Мои люди")
    assert "Мама" not in last_text(daughter)


async def test_after_withdrawing_consent_the_owner_can_still_revoke(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    owner, _daughter = await family(stack, sandbox, sandbox_clock, 8110)
    await owner.press("🔒 Мои данные")
    await owner.press("👁 Кто смотрел мою медкарту")
    assert "Кто смотрел мою медкарту" in last_text(owner)
    assert owner.last_message.protect_content

    await owner.press("🔒 Мои данные")
    await owner.press("Отозвать согласие")
    question = last_text(owner)
    assert "сохранится, пока вы его не отзовёте: Анна С." in question
    assert "/forget" in question
    await owner.press("Да, отозвать")
    assert "Доступ к вашей медкарте сохраняется: Анна С." in (owner.messages[-2].text or "")

    await owner.press("🔑 У кого есть доступ к моей медкарте")
    await owner.press("❌ Отозвать: Анна С.")
    await owner.press("Да, отозвать")
    assert last_text(owner).startswith("✅ Доступ отозван: Анна С.\n")
    assert not any("Сначала дайте согласие" in (a.text or "") for a in owner.callback_answers)
