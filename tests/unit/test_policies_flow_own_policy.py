"""Linking my own policy through the real dispatcher, against a real sandbox backend (its SMS outbox
read as the card owner would read their phone): the code from my SMS links it and nothing
secret is kept; someone else's contact, bad policy numbers and dates, an unknown birth date,
cancelling and unexpected input at every step each get their answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Dispatcher
from sqlalchemy import select

from backend_client.sandbox import SandboxBackend
from bot.db.engine import SessionMaker
from bot.db.models import LinkDraft, PhoneCheck
from keyboards.policies import LinkKind, LinkStartCb
from tests.sandbox_fixtures import TEST_NOW
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_flow_support import fsm_data
from tests.unit.policies_support import Chat, last_code, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

# The sandbox (not ours) still calls `Result.tuples()`, deprecated in SQLAlchemy 2.1; reported.
pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

# --- my own policy --------------------------------------------------------------------------


async def test_own_policy_is_linked_with_the_code_from_my_sms(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker, dispatcher: Dispatcher
) -> None:
    anna = await persona(backend, "mother")
    me: Chat = await chat_for(3001, "Анна")

    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    assert me.last_request("sendMessage").reply_markup.keyboard[0][0].request_contact
    await me.share_contact("+7 985 460-07-65")
    assert "Введите номер полиса ОМС" in me.said()
    await me.text(f"{anna.policy[:4]} {anna.policy[4:8]}-{anna.policy[8:]}")
    policy_message = me.last_request("deleteMessage")
    await me.text(anna.birth_date.strftime("%-d.%-m.%Y"))
    assert "на телефон, привязанный к вашей медкарте: +7 *** ***-" in me.said()
    # FSM data holds ids only: never the policy, the birth date or (later) the code; the code
    # asked for is remembered by a keyed hash of the card and the time it was asked.
    data = await fsm_data(dispatcher, me.bot, 3001)
    assert set(data) == {"draft_id", "asked"}
    assert isinstance(data["asked"], dict) and set(data["asked"]) == {"card", "asked_at"}
    for secret in (anna.policy, anna.patient_id, anna.birth_date.isoformat()):
        assert secret not in str(data)

    code = await last_code(backend, anna.phone)
    await me.text(code)
    assert "ваша медкарта привязана" in me.said()
    deleted = me.rec.sent("deleteMessage")
    assert policy_message in deleted and len(deleted) >= 3  # contact, policy, code

    rows = await people_rows(sessionmaker, 3001)
    assert [r.relation for r in rows] == ["self"]
    assert anna.policy.encode() not in rows[0].policy_enc
    assert anna.patient_id not in rows[0].patient_ref_hash
    async with sessionmaker() as db:
        phone = await db.scalar(select(PhoneCheck))
        assert phone is not None and "985" not in phone.phone_hash
        assert await db.scalar(select(LinkDraft)) is None
    assert await fsm_data(dispatcher, me.bot, 3001) == {}

    await me.text("👨‍👩‍👧 Мои люди")
    assert "Анна С." in me.said() and "моя медкарта" in me.said()


async def test_someone_elses_contact_is_refused(chat_for, backend: SandboxBackend) -> None:
    me: Chat = await chat_for(3002)
    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    await me.share_contact("+7 999 111-22-33", own=False)
    assert "Это не ваш контакт" in me.said()
    await me.text("hello")
    assert "Поделиться номером телефона" in me.said()


async def test_bad_policy_and_date_say_what_is_wrong_and_stay(
    chat_for, backend: SandboxBackend
) -> None:
    anna = await persona(backend, "mother")
    me: Chat = await chat_for(3003)
    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    await me.share_contact("+7 985 460-07-65")

    await me.text(anna.policy[:-1])
    assert "16 цифр" in me.said()
    await me.text("7785 40O5 1775 0517")
    assert "только из цифр" in me.said()
    await me.text(anna.policy[:-1] + str((int(anna.policy[-1]) + 1) % 10))
    assert "контрольная" in me.said()
    await me.text(anna.policy)
    assert "Полис принят" in me.said()

    await me.text("31.02.1988")
    assert "Такой даты нет" in me.said()
    await me.text((TEST_NOW + timedelta(days=3)).strftime("%d.%m.%Y"))
    assert "не может быть в будущем" in me.said()
    await me.text("вчера")
    assert "01.02.1980" in me.said()
    await me.text(anna.birth_date.isoformat())
    assert "Мы отправили код" in me.said()


async def test_wrong_birth_date_is_not_found_and_asks_again(
    chat_for, backend: SandboxBackend
) -> None:
    anna = await persona(backend, "mother")
    me: Chat = await chat_for(3004)
    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    await me.share_contact("+7 985 460-07-65")
    await me.text(anna.policy)
    await me.text("01.01.1970")
    assert "не найдена" in me.said() and "Введите номер полиса" in me.said()


async def test_cancel_and_unexpected_input_in_every_step(
    chat_for, backend: SandboxBackend, dispatcher: Dispatcher
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3005)
    await me.press(LinkStartCb(kind=LinkKind.RELATIVE).pack())
    await me.text("not a contact")
    assert "Поделиться номером" in me.said()
    await me.share_contact("+7 900 000-00-05")
    await me.share_contact("+7 900 000-00-05")  # a contact where a name is expected
    assert "текстовым сообщением" in me.said()
    await me.text("Мама")
    await me.text(galina.policy)
    await me.text(galina.birth_date.isoformat())
    await me.text("all of it")  # typed where buttons are expected
    assert "кнопками выше" in me.said()
    await me.text("/cancel")
    assert "Отменено" in me.said()
    assert await fsm_data(dispatcher, me.bot, 3005) == {}
