"""Linking as a person meets it, through the real bot and the emulator: a menu button says it
cancelled the linking and a policy typed afterwards leaves the chat; the one-minute SMS pause
keeps the answers and "📨 Send the code" sends it once the pause is over."""

from __future__ import annotations

import pytest

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.offline import OfflineStack
from tests.e2e.helpers import last_text
from tests.e2e.people import code_sent_to, link_own_card, new_user, persona

pytestmark = pytest.mark.e2e


async def test_menu_button_mid_linking_and_a_policy_typed_afterwards(
    stack: OfflineStack, sandbox: SandboxBackend
) -> None:
    anna = await persona(sandbox, "mother")
    user = await new_user(stack, 6301, "Anna", anna.phone)
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ My own policy")
    await user.press("📱 Share my phone number")
    before = len(user.messages)
    await user.press("🩺 Medical record")
    said = [m.text or "" for m in user.messages[before:]]
    assert "Linking the policy was cancelled." in said
    await user.send_text(anna.policy)
    assert anna.policy in {m.text for m in user.deleted}
    assert "looks like a policy number" in last_text(user)


async def test_relative_right_after_my_own_card_waits_for_the_pause_then_sends(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    anna, galina = await persona(sandbox, "mother"), await persona(sandbox, "elderly_mother")
    user = await new_user(stack, 6302, "Anna", anna.phone)
    await link_own_card(user, sandbox, anna)
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ A relative's policy")
    await user.send_text("Mum")
    await user.send_text(galina.policy)
    await user.send_text(f"{galina.birth_date:%d.%m.%Y}")
    await user.press("Appointments and the medical record")
    await user.press("6 months")
    assert "The code can be sent in" in last_text(user) and "answers are kept" in last_text(user)

    answer = await user.press("📨 Send the code")  # too early: the seconds left, nothing lost
    assert answer is not None and answer.show_alert and "can be sent in" in (answer.text or "")

    sandbox_clock.advance(seconds=61)
    await user.press("📨 Send the code")
    assert "owner's phone" in last_text(user)
    await user.send_text(await code_sent_to(sandbox, galina.phone))
    assert "Mum is now in My people" in last_text(user)
