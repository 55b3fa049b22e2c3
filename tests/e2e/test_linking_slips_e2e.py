"""Linking slips a tired person makes, on both messengers (issue 14): switching the language
in the middle of linking, a policy typed where the name was asked, a code typed with a space."""

from __future__ import annotations

import pytest

from backend_client.sandbox import SandboxBackend
from tests.e2e.channels import Channel, Person, consented
from tests.sandbox_fixtures import code_sent_to, persona

pytestmark = pytest.mark.e2e


def said_since(person: Person, before: int) -> str:
    return " | ".join(person.texts()[before:])


async def test_choosing_a_language_mid_linking_keeps_the_step(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    me = await persona(sandbox, "single")
    person = await consented(channel, 6401, "Иван", me.phone)
    await person.press("👨‍👩‍👧 My people")
    await person.press("➕ My own policy")
    await person.press("📱 Share my phone number")
    await person.send_text(me.policy)

    # /language at the birth date step: the step is said again, in the language chosen.
    before = len(person.texts())
    await person.send_text("/language")
    await person.press("🇷🇺 Русский")
    said = said_since(person, before)
    assert "Linking the policy was cancelled." not in said
    assert "Продолжаем привязку полиса" in said and "дата рождения" in person.last_text
    await person.send_text(f"{me.birth_date:%d.%m.%Y}")
    assert "СМС" in person.last_text

    # The menu's language button at the code step: the code is still what the bot asks for.
    before = len(person.texts())
    await person.press("🌐 Язык")
    await person.press("🇬🇧 English")
    said = said_since(person, before)
    assert "was cancelled" not in said and "goes on where it was" in said
    assert "code from the SMS" in person.last_text
    await person.send_text(await code_sent_to(sandbox, me.phone))
    assert "your medical card is linked" in person.last_text


async def test_a_code_typed_with_a_space_is_accepted(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    me = await persona(sandbox, "single")
    person = await consented(channel, 6402, "Иван", me.phone)
    await person.press("👨‍👩‍👧 My people")
    await person.press("➕ My own policy")
    await person.press("📱 Share my phone number")
    await person.send_text(me.policy)
    await person.send_text(f"{me.birth_date:%d.%m.%Y}")
    code = await code_sent_to(sandbox, me.phone)
    await person.send_text(f"{code[:3]} {code[3:]}")  # as the SMS is read out: «097 117»
    assert "your medical card is linked" in person.last_text


async def test_a_childs_policy_typed_where_the_name_was_asked(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    mother = await persona(sandbox, "mother")
    child = await persona(sandbox, "child")
    person = await consented(channel, 6403, "Анна", mother.phone)
    await person.press("👨‍👩‍👧 My people")
    await person.press("➕ My own policy")
    await person.press("📱 Share my phone number")
    await person.send_text(mother.policy)
    await person.send_text(f"{mother.birth_date:%d.%m.%Y}")
    await person.send_text(await code_sent_to(sandbox, mother.phone))
    await person.press("👨‍👩‍👧 My people")
    await person.press("➕ A child under 15")
    assert "What should we call this child?" in person.last_text

    await person.send_text(child.policy)  # the policy first: kept, the name is asked for
    assert "looks like the policy number" in person.last_text
    assert "Masha" in person.last_text and "Mum" not in person.last_text
    await person.send_text("Son")
    assert "birth date" in person.last_text  # the policy is not asked for twice
    await person.send_text(f"{child.birth_date:%d.%m.%Y}")
    assert "Son is now in My people" in person.last_text
