"""My people through the real dispatcher, against a real sandbox backend: forged person ids are
refused and logged, "whose card" is asked and remembered, unlinking revokes the backend grant
(only after its own question is answered), and an expired grant stops working on the minute."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from aiogram import Dispatcher

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from keyboards.people import PersonAction, PersonCb
from keyboards.policies import TermChoice
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_flow_support import KEYS, fsm_data
from tests.unit.policies_support import Chat, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

# The sandbox (not ours) still calls `Result.tuples()`, deprecated in SQLAlchemy 2.1; reported.
pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

# --- My people, whose card, unlink, forged buttons --------------------------------------------


async def test_forged_person_id_is_refused_and_logged(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await persona(backend, "mother")
    owner: Chat = await chat_for(3040, "Анна")
    await owner.link_own(backend, anna)
    victim_row = (await people_rows(sessionmaker, 3040))[0]

    intruder: Chat = await chat_for(3041)
    caplog.set_level(logging.WARNING)
    for action in (PersonAction.VIEW, PersonAction.PICK, PersonAction.UNLINK_CONFIRM):
        await intruder.press(PersonCb(action=action, id=victim_row.id).pack())
        assert "нет в вашем списке" in intruder.alerts()[-1]
    denied = [r for r in caplog.records if r.msg == "security.denied"]
    assert len(denied) == 3
    assert all(anna.policy not in str(r.__dict__) and "Анна" not in str(r.__dict__) for r in denied)
    assert len(await people_rows(sessionmaker, 3040)) == 1  # nothing was removed


async def test_whose_card_asks_and_remembers(
    chat_for, backend: SandboxBackend, dispatcher: Dispatcher, sessionmaker: SessionMaker
) -> None:
    anna, galina = await persona(backend, "mother"), await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3050, "Анна")
    await me.link_own(backend, anna)
    await me.link_relative(backend, galina, label="Мама")
    rows = await people_rows(sessionmaker, 3050)
    mama = next(r for r in rows if r.relation == "relative")

    await me.press(PersonCb(action=PersonAction.PICK, id=mama.id).pack())
    assert "Действуем от имени: <b>Мама</b>" in me.last_request("editMessageText").text
    assert await fsm_data(dispatcher, me.bot, 3050) == {"person_id": mama.id}


async def test_unlink_revokes_the_backend_grant(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3060)
    await me.link_relative(backend, galina, label="Мама")
    row = (await people_rows(sessionmaker, 3060))[0]
    await me.press(PersonCb(action=PersonAction.UNLINK, id=row.id).pack())
    assert "Удалить «Мама»" in me.said()
    await me.press(PersonCb(action=PersonAction.UNLINK_CONFIRM, id=row.id).pack())
    assert "доступ отозван" in me.last_request("editMessageText").text
    assert await people_rows(sessionmaker, 3060) == []
    assert await backend.list_grants_received(requester_id_for(KEYS, 3060)) == []


async def test_a_yes_without_its_question_removes_nothing_and_asks(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    anna = await persona(backend, "mother")
    me: Chat = await chat_for(3061, "Анна")
    await me.link_own(backend, anna)
    [row] = await people_rows(sessionmaker, 3061)
    yes = PersonCb(action=PersonAction.UNLINK_CONFIRM, id=row.id).pack()

    # A forged "Yes, remove" for one's own card, with no question before it.
    await me.press(yes)
    assert len(await people_rows(sessionmaker, 3061)) == 1  # still linked ...
    assert len(await backend.list_grants_received(requester_id_for(KEYS, 3061))) == 1
    question = me.last_request("sendMessage")  # ... and the question is shown instead
    assert question.text.startswith("Удалить «")
    buttons = [b.callback_data for line in question.reply_markup.inline_keyboard for b in line]
    assert buttons == [yes, PersonCb(action=PersonAction.VIEW, id=row.id).pack()]

    # Answering that question removes the card.
    await me.press(yes)
    assert "доступ отозван" in me.last_request("editMessageText").text
    assert await people_rows(sessionmaker, 3061) == []


async def test_a_yes_from_before_another_step_or_for_another_person_asks_again(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    anna, galina = await persona(backend, "mother"), await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3062, "Анна")
    await me.link_own(backend, anna)
    await me.link_relative(backend, galina, label="Мама")
    rows = await people_rows(sessionmaker, 3062)
    own = next(r for r in rows if r.relation == "self")
    mama = next(r for r in rows if r.relation == "relative")

    # Asked about Mama, but the "Yes" carries one's own card: asked about that first.
    await me.press(PersonCb(action=PersonAction.UNLINK, id=mama.id).pack())
    await me.press(PersonCb(action=PersonAction.UNLINK_CONFIRM, id=own.id).pack())
    assert me.said().startswith("Удалить «") and "Мама" not in me.said()
    assert len(await people_rows(sessionmaker, 3062)) == 2

    # Asked about Mama, then the menu: the old question's "Yes" asks again.
    await me.press(PersonCb(action=PersonAction.UNLINK, id=mama.id).pack())
    await me.text("/people")
    await me.press(PersonCb(action=PersonAction.UNLINK_CONFIRM, id=mama.id).pack())
    assert "Удалить «Мама»" in me.said()
    assert len(await people_rows(sessionmaker, 3062)) == 2


async def test_expired_grant_stops_working_on_the_minute(
    chat_for, backend: SandboxBackend, clock: FrozenClock, sessionmaker: SessionMaker
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3070)
    await me.link_relative(backend, galina, label="Мама", term=TermChoice.MONTH)
    row = (await people_rows(sessionmaker, 3070))[0]
    assert row.expires_at is not None
    clock.set(row.expires_at - timedelta(minutes=1))
    await me.press(PersonCb(action=PersonAction.PICK, id=row.id).pack())
    assert "Действуем от имени" in me.last_request("editMessageText").text
    clock.set(row.expires_at)
    await me.press(PersonCb(action=PersonAction.PICK, id=row.id).pack())
    assert "Срок доступа к этой медкарте истёк" in me.alerts()[-1]
    await me.text("👨‍👩‍👧 Мои люди")
    assert "Мама" not in me.said()
