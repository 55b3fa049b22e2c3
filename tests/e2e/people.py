"""Steps a person takes in the e2e tests, through the real bot and the emulator."""

from __future__ import annotations

import contextlib

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.simulation import Persona
from backend_client.sandbox.testing import code_from_sms
from bot.emulator import UserDriver
from bot.offline import OfflineStack


async def persona(sandbox: SandboxBackend, key: str) -> Persona:
    return next(p for p in await sandbox.personas() if p.key == key)


async def code_sent_to(sandbox: SandboxBackend, phone: str) -> str:
    """The newest one-time code on the owner's phone, read as the owner reads an SMS."""
    for sms in await sandbox.sms_outbox(phone):  # newest first
        with contextlib.suppress(ValueError):  # an SMS without a code
            return code_from_sms(sms.text)
    raise AssertionError("no code was sent to this phone")


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
