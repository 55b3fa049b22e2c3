"""Steps a person takes in the e2e tests, through the real bot and the emulator."""

from __future__ import annotations

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.simulation import Persona
from bot.emulator import UserDriver
from bot.offline import OfflineStack
from tests.e2e.helpers import last_text
from tests.sandbox_fixtures import code_sent_to, persona

__all__ = ["code_sent_to", "link_own_card", "link_relative", "new_user", "persona"]


async def new_user(stack: OfflineStack, telegram_id: int, name: str, phone: str) -> UserDriver:
    """A person who has chosen English and given consent."""
    user = stack.world.user(telegram_id, name, language_code="en", phone=phone)
    await user.send_command("/start")
    await user.press("🇬🇧 English")
    await user.press("✅ I agree")
    return user


async def link_own_card(user: UserDriver, sandbox: SandboxBackend, me: Persona) -> None:
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ My own policy")
    await user.press("📱 Share my phone number")
    await user.send_text(me.policy)
    await user.send_text(f"{me.birth_date:%d.%m.%Y}")
    await user.send_text(await code_sent_to(sandbox, me.phone))


async def link_relative(
    user: UserDriver, sandbox: SandboxBackend, who: Persona, label: str, scope: str
) -> None:
    """A relative's card through My people: `scope` is the button ("Appointments only", ...);
    the owner relays the code from their phone."""
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ A relative's policy")
    if "📱 Share my phone number" in user.reply_keyboard:
        await user.press("📱 Share my phone number")
    await user.send_text(label)
    await user.send_text(who.policy)
    await user.send_text(f"{who.birth_date:%d.%m.%Y}")
    await user.press(scope)
    await user.press("6 months")
    await user.send_text(await code_sent_to(sandbox, who.phone))
    assert f"{label} is now in My people" in last_text(user)
