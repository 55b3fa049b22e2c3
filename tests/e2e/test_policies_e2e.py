"""Linking cards as a person would: own policy, a relative's by the owner's relayed SMS code."""

from __future__ import annotations

import pytest

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.offline import OfflineStack
from keyboards.people import PersonAction, PersonCb
from tests.e2e.helpers import last_text
from tests.e2e.people import code_sent_to, link_own_card, new_user, persona

pytestmark = pytest.mark.e2e


async def test_own_policy_is_linked_and_typed_secrets_are_deleted(
    stack: OfflineStack, sandbox: SandboxBackend
) -> None:
    anna = await persona(sandbox, "mother")
    user = await new_user(stack, 6001, "Anna", anna.phone)
    await link_own_card(user, sandbox, anna)

    assert "your medical card is linked" in last_text(user)
    # The policy, the birth date and the code the user typed are gone from the chat.
    deleted = {m.text for m in user.deleted}
    assert anna.policy in deleted
    assert f"{anna.birth_date:%d.%m.%Y}" in deleted
    await user.press("👨‍👩‍👧 My people")
    assert "My people" in last_text(user)


async def test_input_mistakes_keep_the_user_at_the_same_step(
    stack: OfflineStack, sandbox: SandboxBackend
) -> None:
    anna = await persona(sandbox, "mother")
    user = await new_user(stack, 6002, "Anna", anna.phone)
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ My own policy")
    await user.press("📱 Share my phone number")
    await user.send_text("1234")
    assert "16 digits" in last_text(user)
    await user.send_text("77O9 4703 6223 4357")  # a letter O among the digits
    assert "only digits" in last_text(user)
    await user.send_text(anna.policy[:-1] + str((int(anna.policy[-1]) + 1) % 10))
    assert "check" in last_text(user).lower()
    await user.send_text(anna.policy.replace("", " ").strip()[:40])  # spaces are fine
    assert "birth date" in last_text(user)
    await user.send_text("31.02.1980")
    assert "no such date" in last_text(user)
    await user.send_text("01.01.2999")
    assert "future" in last_text(user)
    await user.send_text(f"{anna.birth_date:%Y-%m-%d}")
    assert "code" in last_text(user).lower()
    await user.send_text("000000")
    assert "attempt" in last_text(user).lower()


async def test_relative_linked_with_the_code_the_owner_relays(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    anna = await persona(sandbox, "mother")
    galina = await persona(sandbox, "elderly_mother")
    user = await new_user(stack, 6003, "Anna", anna.phone)
    await link_own_card(user, sandbox, anna)
    sandbox_clock.advance(seconds=61)  # one code a minute per requester

    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ A relative's policy")
    await user.send_text("Mum")
    await user.send_text(galina.policy)
    await user.send_text(f"{galina.birth_date:%d.%m.%Y}")
    await user.press("Appointments and the medical record")
    await user.press("6 months")
    # The code went to the owner's phone, not the user's; the bot says so (masked phone).
    assert "+7" in last_text(user) and galina.phone not in last_text(user)
    sms = (await sandbox.sms_outbox(galina.phone))[0].text
    assert "Anna" in sms or "Смирнова" in sms or "Анна" in sms  # the SMS names who asks
    await user.send_text(await code_sent_to(sandbox, galina.phone))
    assert "Mum is now in My people" in last_text(user)


async def test_cancel_mid_flow_and_forged_person_buttons(
    stack: OfflineStack, sandbox: SandboxBackend
) -> None:
    anna = await persona(sandbox, "mother")
    user = await new_user(stack, 6004, "Anna", anna.phone)
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ My own policy")
    await user.press("📱 Share my phone number")
    await user.send_command("/cancel")
    assert "Cancelled" in last_text(user)
    # After /cancel a policy number is just text again, not a step of the flow.
    await user.send_text(anna.policy)
    assert "looks like a policy number" in last_text(user)

    # Somebody else's person row: refused, nothing about them is shown.
    someone = await new_user(stack, 6005, "Dmitry", (await persona(sandbox, "father")).phone)
    await link_own_card(someone, sandbox, await persona(sandbox, "father"))
    message = user.last_message
    for person_id in range(1, 6):
        answer = await user.press_data(
            message.message_id, PersonCb(action=PersonAction.VIEW, id=person_id).pack()
        )
        assert "Смирнов" not in (answer.text or "")
        assert "Dmitry" not in last_text(user) and "Смирнов" not in last_text(user)


async def test_someone_elses_contact_is_refused(
    stack: OfflineStack, sandbox: SandboxBackend
) -> None:
    anna = await persona(sandbox, "mother")
    user = await new_user(stack, 6006, "Anna", anna.phone)
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ My own policy")
    await user.share_contact("+79990001122", user_id=424242)
    assert "your own" in last_text(user).lower()
