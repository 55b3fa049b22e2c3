"""Linking a relative's policy with the code sent to the owner's phone, through the real
dispatcher against a real sandbox backend: the SMS names who asks, wrong, expired and resent
codes each have a next step, sends and recipients are limited and explained, and brute force
cannot succeed within the limits."""

from __future__ import annotations

import pytest

from backend_client.protocol import CODE_MAX_ATTEMPTS, MAX_RECIPIENTS
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from keyboards.policies import CodeAction, CodeCb, LinkKind, LinkStartCb
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_flow_support import KEYS
from tests.unit.policies_support import Chat, last_code, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

# The sandbox (not ours) still calls `Result.tuples()`, deprecated in SQLAlchemy 2.1; reported.
pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

# --- a relative's policy --------------------------------------------------------------------


async def test_relative_linked_with_the_owners_code(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3010, "Анна")
    await me.request_relative(galina, label="Мама <3")
    said = me.said()
    assert "на телефон владельца полиса: +7 *** ***-" + galina.phone[-4:-2] in said
    assert "Попросите" in said
    sms = (await backend.sms_outbox(galina.phone))[0].text
    assert "Анна" in sms and "медкарты" in sms  # the SMS names who asks for what

    await me.text(await last_code(backend, galina.phone))
    assert "Мама &lt;3" in me.said() and "запись к врачу и медкарта" in me.said()
    await me.text("👨‍👩‍👧 Мои люди")
    assert "Мама &lt;3" in me.said() and "родственник" in me.said()
    rows = await people_rows(sessionmaker, 3010)
    assert [r.relation for r in rows] == ["relative"] and rows[0].expires_at is not None
    assert b"\xd0\x9c\xd0\xb0\xd0\xbc\xd0\xb0" not in rows[0].label_enc  # "Мама" encrypted


async def test_code_refusals_each_with_a_next_step(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3011)
    await me.request_relative(galina)
    code = await last_code(backend, galina.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    await me.text("12345")
    assert "В коде 6 цифр" in me.said()
    await me.text(wrong)
    assert "Неверный код. Осталось 4 попытки." in me.said()

    await me.press(CodeCb(action=CodeAction.RESEND).pack())
    assert "Новый код можно будет запросить через" in me.alerts()[-1]

    clock.advance(minutes=11)
    await me.text(code)
    assert "Срок действия кода истёк" in me.said()
    await me.press(CodeCb(action=CodeAction.RESEND).pack())
    assert "Мы отправили код" in me.said()
    await me.text(code)  # the old code died with the resend
    assert "Неверный код" in me.said()
    await me.text(await last_code(backend, galina.phone))
    assert "теперь в разделе «Мои люди»" in me.said()


async def test_start_over_after_a_number_change(chat_for, backend: SandboxBackend) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3012)
    await me.request_relative(galina)
    await me.press(CodeCb(action=CodeAction.RESTART).pack())
    assert "Начнём заново" in me.said() and "Введите номер полиса" in me.said()


async def test_too_many_sends_says_how_long_to_wait(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3013)
    for _ in range(3):
        await me.request_relative(galina)
        clock.advance(seconds=61)
    await me.request_relative(galina)
    assert "слишком много кодов" in me.said() and "Попробуйте снова через" in me.said()


async def test_unknown_policy_is_not_found(chat_for, backend: SandboxBackend) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3014)
    await me.press(LinkStartCb(kind=LinkKind.RELATIVE).pack())
    await me.share_contact("+7 900 000-00-14")
    await me.text("Мама")
    await me.text(galina.policy)
    await me.text("01.01.1950")
    await me.press("lsc:r")
    await me.press("ltm:0")
    assert "не найдена" in me.said()


async def test_brute_force_cannot_succeed_within_the_limits(
    chat_for, backend: SandboxBackend, clock: FrozenClock, sessionmaker: SessionMaker
) -> None:
    """5 wrong codes kill a challenge; sends are limited per patient and per requester, so even
    several bot users together get at most 3 codes an hour (15 guesses of a million)."""
    viktor = await persona(backend, "elderly_father")
    attackers = [await chat_for(3020 + i) for i in range(3)]
    guesses = 0
    for attacker in attackers:
        await attacker.request_relative(viktor, label="Дед")
        code = await last_code(backend, viktor.phone)
        for attempt in range(CODE_MAX_ATTEMPTS):
            guess = f"{(int(code) + 1 + attempt) % 1_000_000:06d}"  # never the real one
            await attacker.text(guess)
            guesses += 1
        assert "Слишком много неверных кодов" in attacker.said()
        await attacker.text(code)  # even the right code no longer works
        assert "Слишком много неверных кодов" in attacker.said()
        clock.advance(seconds=61)

    # The card's hourly send limit is spent, whoever of the bot users asks next.
    fourth = await chat_for(3029)
    await fourth.request_relative(viktor, label="Дед")
    assert "слишком много кодов" in fourth.said()
    assert guesses == 3 * CODE_MAX_ATTEMPTS
    for telegram_id in (3020, 3021, 3022, 3029):
        assert await people_rows(sessionmaker, telegram_id) == []
        assert await backend.list_grants_received(requester_id_for(KEYS, telegram_id)) == []


async def test_grant_limit_is_explained(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    single = await persona(backend, "single")
    for i in range(MAX_RECIPIENTS):
        relative: Chat = await chat_for(3030 + i)
        await relative.link_relative(backend, single, label="Брат")
        clock.advance(minutes=21)  # the card's hourly send limit
    sixth: Chat = await chat_for(3039)
    await sixth.request_relative(single, label="Брат")
    assert "уже дал доступ 5 людям" in sixth.said()
