"""Confirming a code survives our own crash: the backend confirmed, the bot died before keeping
the link, and the person types the same code again — the card is linked, not refused with
"too many wrong codes". Both by the backend (a used challenge with the right code returns its
grant) and by the bot (a backend that refuses a used challenge: the grant that code made is
found and linked)."""

from __future__ import annotations

from typing import Any

import pytest

from backend_client.errors import CodeExhausted
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.keys import AppKeys
from keyboards.policies import LinkKind, LinkStartCb, ScopeChoice
from tests.conftest import TEST_KEY
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, last_code, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

KEYS = AppKeys(TEST_KEY)
LINKED_OWN = "ваша медкарта привязана"
EXHAUSTED = "Слишком много неверных кодов"


class ReplicaKilled(Exception):
    """The process handling the update died right after the backend answered."""


def crash_after_first_confirm(
    monkeypatch: pytest.MonkeyPatch, backend: SandboxBackend, *, refuse_used: bool = False
) -> list[str]:
    """The first `confirm_access` goes through at the backend and then the bot "dies"; with
    `refuse_used`, later confirms of a used challenge are refused like an older backend does.
    Returns the list of calls, for counting."""
    real = backend.confirm_access
    calls: list[str] = []
    used: set[str] = set()

    async def confirm(challenge_id: str, code: str, requester: Any) -> Any:
        calls.append(challenge_id)
        if refuse_used and challenge_id in used:
            raise CodeExhausted("challenge is closed")
        grant = await real(challenge_id, code, requester)
        used.add(challenge_id)
        if len(calls) == 1:
            raise ReplicaKilled
        return grant

    monkeypatch.setattr(backend, "confirm_access", confirm)
    return calls


async def request_own_code(chat: Chat, who: Any) -> None:
    await chat.press(LinkStartCb(kind=LinkKind.SELF).pack())
    if "поделиться своим контактом" in chat.said():
        await chat.share_contact("+7 900 000-00-00")
    await chat.text(who.policy)
    await chat.text(who.birth_date.strftime("%d.%m.%Y"))
    assert "Мы отправили код" in chat.said()


async def test_the_same_code_after_our_crash_links_the_card(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(9301, "Олег")
    await request_own_code(me, oleg)
    code = await last_code(backend, oleg.phone)
    calls = crash_after_first_confirm(monkeypatch, backend)
    await me.text(code)  # the bot's error handler apologises; the update's writes are gone
    assert await people_rows(sessionmaker, 9301) == []  # the bot kept nothing

    await me.text(code)  # the person tries again (or Telegram delivers the update again)
    assert LINKED_OWN in me.said()
    assert EXHAUSTED not in " ".join(me.rec.texts())
    assert len(calls) == 2
    rows = await people_rows(sessionmaker, 9301)
    grants = await backend.list_grants_received(requester_id_for(KEYS, 9301))
    assert [r.grant_id for r in rows] == [g.grant_id for g in grants]  # one link, one grant


async def test_a_backend_that_refuses_a_used_code_still_gets_the_card_linked(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(9302, "Анна")
    await me.request_relative(galina, label="Мама", scope=ScopeChoice.APPOINTMENTS)
    code = await last_code(backend, galina.phone)
    crash_after_first_confirm(monkeypatch, backend, refuse_used=True)
    await me.text(code)  # the bot's error handler apologises; the update's writes are gone

    await me.text(code)  # refused as "used" by the backend; the bot finds the grant it made
    assert "«Мама» теперь в разделе «Мои люди»" in me.said()
    [row] = await people_rows(sessionmaker, 9302)
    [grant] = await backend.list_grants_received(requester_id_for(KEYS, 9302))
    assert (row.grant_id, row.scope) == (grant.grant_id, "appointments")


async def test_an_older_grant_on_the_card_is_not_taken_for_a_new_code(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # I hold access to Mum's card already; a new request is closed by wrong codes. The old
    # grant was not made by this code: the refusal stands, and nothing changes.
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(9303, "Анна")
    await me.link_relative(backend, galina, label="Мама")
    [before] = await people_rows(sessionmaker, 9303)
    clock.advance(seconds=61)
    await me.request_relative(galina, label="Мама")
    code = await last_code(backend, galina.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        await me.text(wrong)
    await me.text(code)
    assert EXHAUSTED in me.said()
    [after] = await people_rows(sessionmaker, 9303)
    assert (after.id, after.grant_id) == (before.id, before.grant_id)
