"""Guessing a birth date is capped: wrong look-ups are counted per policy number and per Telegram
account, by the bot itself (a backend behind another adapter may not count) and by the
backend; a locked-out person is told when to try again, and nothing about the card's owner
shows before the code is confirmed."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage
from sqlalchemy import func, select

from backend_client.lockout import POLICY_CAPS, REQUESTER_CAPS, seconds_locked
from backend_client.policy import make_policy
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.lookup_models import LookupFailure
from keyboards.policies import LinkKind, LinkStartCb, ScopeCb, ScopeChoice, TermCb, TermChoice
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, last_code, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

LOCKED = "введено слишком много неверных дат рождения"
NOT_FOUND = "Медкарта с таким номером полиса и датой рождения не найдена"
ASK_DATE = "Теперь дата рождения"


def nobodys_policy(n: int) -> str:
    """A well-formed policy number that no card has."""
    return make_policy(f"98{n:013d}")


async def to_policy_step(chat: Chat, kind: LinkKind = LinkKind.SELF, label: str = "") -> None:
    await chat.press(LinkStartCb(kind=kind).pack())
    if "поделиться своим контактом" in chat.said():
        await chat.share_contact(f"+7 900 000-{chat.user.id % 100:02d}-00")
    if label:
        await chat.text(label)


async def look_up(chat: Chat, policy: str, born: date) -> None:
    """My own policy: the policy, then (unless the bot refuses at once) the birth date."""
    await to_policy_step(chat)
    await chat.text(policy)
    if ASK_DATE in chat.said():
        await chat.text(born.strftime("%d.%m.%Y"))


async def test_sixth_look_up_of_a_policy_is_refused_even_with_the_right_date(
    chat_for, backend: SandboxBackend, clock: FrozenClock, sessionmaker: SessionMaker
) -> None:
    oleg = await persona(backend, "single")
    for n in range(5):  # five accounts guessing one policy, a minute apart
        guesser: Chat = await chat_for(9100 + n)
        await look_up(guesser, oleg.policy, date(1950 + n, 1, 1))
        assert NOT_FOUND in guesser.said()
        clock.advance(minutes=1)

    owner: Chat = await chat_for(9110, "Олег")
    await to_policy_step(owner)
    await owner.text(oleg.policy)  # refused as soon as the policy is typed
    said = owner.said()
    assert LOCKED in said
    assert "Попробуйте снова через 55 минут" in said  # when the first guess leaves its hour
    assert "введённые данные удалены" in said
    assert await backend.sms_outbox(oleg.phone) == []  # nothing reached the owner's phone

    clock.advance(minutes=55)
    await owner.link_own(backend, oleg)  # the window has passed: it works again
    assert [r.relation for r in await people_rows(sessionmaker, 9110)] == ["self"]


async def test_the_bot_counts_even_when_the_backend_does_not(
    chat_for, backend: SandboxBackend, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_limit(*_args: Any) -> None:  # a backend (a future adapter) with no lock-out
        return None

    monkeypatch.setattr("backend_client.sandbox.access.check_not_locked", no_limit)
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(9120)
    for n in range(5):
        await look_up(me, oleg.policy, date(1960, 1, 1 + n))
        assert NOT_FOUND in me.said()
        clock.advance(minutes=2)
    await look_up(me, oleg.policy, oleg.birth_date)
    assert LOCKED in me.said()
    assert "Попробуйте снова через 50 минут" in me.said()
    assert await backend.sms_outbox(oleg.phone) == []


async def test_the_backends_lock_out_is_told_the_same_way(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    # The policy was guessed at elsewhere (another client of the backend): the bot's own count
    # is empty, the backend refuses, and the person hears the same thing.
    oleg = await persona(backend, "single")
    for n in range(5):
        with contextlib.suppress(Exception):
            await backend.find_patient(oleg.policy, date(1970, 2, 1 + n))
    clock.advance(minutes=30)
    me: Chat = await chat_for(9130, "Олег")
    await look_up(me, oleg.policy, oleg.birth_date)
    assert LOCKED in me.said() and "Попробуйте снова через 30 минут" in me.said()
    assert await backend.sms_outbox(oleg.phone) == []


async def test_one_account_is_capped_across_policies(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(9140)
    for n in range(10):
        await look_up(me, nobodys_policy(n), date(1950, 1, 1))
        assert NOT_FOUND in me.said()
        clock.advance(minutes=1)
    await look_up(me, galina.policy, galina.birth_date)  # an eleventh card
    assert LOCKED in me.said()
    assert "Попробуйте снова через 50 минут" in me.said()

    someone_else: Chat = await chat_for(9141, "Галина")  # the card itself is not locked
    await someone_else.link_own(backend, galina)
    clock.advance(minutes=50)
    await look_up(me, galina.policy, galina.birth_date)
    assert "Мы отправили код" in me.said()


async def test_a_wrong_childs_birth_date_counts_too(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    anna, child = await persona(backend, "mother"), await persona(backend, "child")
    me: Chat = await chat_for(9150, "Анна")
    await me.link_own(backend, anna)
    await to_policy_step(me, LinkKind.CHILD, label="Маша")
    for n in range(5):
        await me.text(child.policy)
        await me.text((child.birth_date - timedelta(days=n + 1)).strftime("%d.%m.%Y"))
        assert "не найдена" in me.said()
    await me.text(child.policy)
    assert LOCKED in me.said()
    assert len(await people_rows(sessionmaker, 9150)) == 1  # only my own card


async def test_a_failure_counts_even_if_the_reply_never_gets_through(
    chat_for, backend: SandboxBackend, monkeypatch: pytest.MonkeyPatch, sessionmaker: SessionMaker
) -> None:
    # Someone blocks the bot right after sending each date: the reply fails, the update is
    # rolled back, and the failure must still be counted.
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(9160)
    real = me.rec.make_request

    async def blocked_on_not_found(bot: Any, method: Any, timeout: Any = None) -> Any:
        if isinstance(method, SendMessage) and NOT_FOUND in method.text:
            raise TelegramForbiddenError(method, "Forbidden: bot was blocked by the user")
        return await real(bot, method, timeout)

    monkeypatch.setattr(me.rec, "make_request", blocked_on_not_found)
    for n in range(5):
        with contextlib.suppress(Exception):
            await look_up(me, oleg.policy, date(1961, 3, 1 + n))
    async with sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(LookupFailure)) == 5
    monkeypatch.setattr(me.rec, "make_request", real)
    await look_up(me, oleg.policy, oleg.birth_date)
    assert LOCKED in me.said()


async def test_before_the_code_only_the_masked_phone_and_my_own_label_show(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(9170)
    await to_policy_step(me, LinkKind.RELATIVE, label="Мама")
    await me.text(galina.policy)
    await me.text(galina.birth_date.strftime("%d.%m.%Y"))
    await me.press(ScopeCb(scope=ScopeChoice.RECORDS).pack())
    await me.press(TermCb(term=TermChoice.MONTH).pack())
    said = me.said()
    assert f"+7 *** ***-{galina.phone[-4:-2]}-{galina.phone[-2:]}" in said
    assert "Попросите владельца (Мама) сообщить вам код" in said
    for revealing in (*galina.full_name.split(), "Галина К.", galina.birth_date.isoformat()):
        assert revealing not in said
    await me.text(await last_code(backend, galina.phone))
    assert any("теперь в разделе «Мои люди»" in t for t in me.rec.texts()[-2:])


# --- the arithmetic of the caps -------------------------------------------------------------

NOW = datetime(2026, 12, 31, 20, 59, tzinfo=UTC)


def test_a_cap_is_full_until_its_oldest_failure_leaves_the_window() -> None:
    five = [NOW - timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]
    assert seconds_locked(five, POLICY_CAPS, NOW) == 10 * 60
    assert seconds_locked(five[1:], POLICY_CAPS, NOW) == 0
    assert seconds_locked(five, POLICY_CAPS, NOW + timedelta(minutes=10)) == 0
    assert seconds_locked(five, REQUESTER_CAPS, NOW) == 0  # ten an hour for an account


def test_the_day_cap_outlasts_the_hour() -> None:
    twenty = [NOW - timedelta(hours=h, minutes=m) for h in range(1, 5) for m in range(5)]
    wait = seconds_locked(twenty, POLICY_CAPS, NOW)
    assert wait == int((twenty[-1] + timedelta(days=1) - NOW).total_seconds())
    assert wait > 19 * 3600
    assert seconds_locked(twenty, POLICY_CAPS, NOW + timedelta(days=1)) == 0
