"""Linking policies, My people, the owner's control: through the real dispatcher, against a real
sandbox backend (its SMS outbox read as the card owner would read their phone)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from backend_client.models import Requester, Scope
from backend_client.protocol import CODE_MAX_ATTEMPTS, MAX_RECIPIENTS
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.db.models import LinkDraft, LinkedPerson, PhoneCheck, User
from bot.keys import AppKeys
from bot.services import people as people_service
from bot.services.people import AccessRefused
from bot.settings import Settings
from keyboards.people import AccessAction, AccessCb, PersonAction, PersonCb
from keyboards.policies import CodeAction, CodeCb, LinkKind, LinkStartCb, ScopeChoice, TermChoice
from tests.conftest import TEST_KEY
from tests.sandbox_fixtures import TEST_NOW
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, last_code, people_rows, persona

KEYS = AppKeys(TEST_KEY)

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

# The sandbox (not ours) still calls `Result.tuples()`, deprecated in SQLAlchemy 2.1; reported.
pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


async def fsm_data(dispatcher: Dispatcher, bot: Bot, telegram_id: int) -> dict[str, object]:
    key = StorageKey(bot_id=bot.id, chat_id=telegram_id, user_id=telegram_id)
    return await dispatcher.storage.get_data(key)


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


# --- the owner in control -------------------------------------------------------------------


async def test_owner_is_alerted_and_revokes(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(backend, "elderly_mother")
    owner: Chat = await chat_for(3080, "Галина")
    await owner.link_own(backend, galina)
    daughter: Chat = await chat_for(3081, "Анна")
    await daughter.link_relative(backend, galina, label="Мама")

    alert = owner.security_alert(3080)
    assert "Кто-то получил доступ к вашей медкарте" in alert.text and "Анна" in alert.text
    revoke_data = alert.reply_markup.inline_keyboard[0][0].callback_data
    assert AccessCb.unpack(revoke_data).action is AccessAction.REVOKE

    await owner.text("🔑 У кого есть доступ")
    assert "1 из 5" in owner.said()

    await owner.press(revoke_data)
    ref = AccessCb.unpack(revoke_data).ref
    await owner.press(AccessCb(action=AccessAction.REVOKE_CONFIRM, ref=ref).pack())
    assert "отозван" in owner.said()
    await owner.text("🔑 У кого есть доступ")
    assert "Ни у кого, кроме вас" in owner.said()

    mama = (await people_rows(sessionmaker, 3081))[0]
    await daughter.press(PersonCb(action=PersonAction.PICK, id=mama.id).pack())
    assert "отозван или закончился" in daughter.alerts()[-1]
    assert await people_rows(sessionmaker, 3081) == []


async def test_forged_revoke_of_someone_elses_grant_does_nothing(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina, anna = await persona(backend, "elderly_mother"), await persona(backend, "mother")
    owner: Chat = await chat_for(3090, "Галина")
    await owner.link_own(backend, galina)
    daughter: Chat = await chat_for(3091, "Анна")
    await daughter.link_relative(backend, galina, label="Мама")
    alert = owner.security_alert(3090)
    stranger: Chat = await chat_for(3092)
    await stranger.link_own(backend, anna)
    await stranger.press(alert.reply_markup.inline_keyboard[0][0].callback_data)
    assert "уже закончился" in stranger.alerts()[-1]
    assert len(await people_rows(sessionmaker, 3091)) == 1


async def test_who_has_access_needs_own_card(chat_for, backend: SandboxBackend) -> None:
    me: Chat = await chat_for(3095)
    await me.text("🔑 У кого есть доступ")
    assert "Сначала привяжите свой полис" in me.said()


# --- children -------------------------------------------------------------------------------


async def test_child_is_linked_without_code_and_drops_at_15(
    chat_for, backend: SandboxBackend, clock: FrozenClock, sessionmaker: SessionMaker
) -> None:
    anna, egor = await persona(backend, "mother"), await persona(backend, "teen_turning_15")
    me: Chat = await chat_for(3100, "Анна")
    await me.press(LinkStartCb(kind=LinkKind.CHILD).pack())
    assert "Сначала привяжите свой полис" in me.said()
    await me.link_own(backend, anna)
    sms_before = len(await backend.sms_outbox(egor.phone))

    await me.press(LinkStartCb(kind=LinkKind.CHILD).pack())
    await me.text("Егор")
    await me.text(egor.policy)
    await me.text(egor.birth_date.strftime("%d.%m.%Y"))
    assert "«Егор» теперь в разделе «Мои люди»" in me.said()
    assert len(await backend.sms_outbox(egor.phone)) == sms_before  # no code for a child
    row = next(r for r in await people_rows(sessionmaker, 3100) if r.relation == "child")

    clock.advance(days=10)  # he turned 15
    await me.press(PersonCb(action=PersonAction.PICK, id=row.id).pack())
    assert "истёк" in me.alerts()[-1] or "отозван или закончился" in me.alerts()[-1]
    await me.text("👨‍👩‍👧 Мои люди")
    assert "Егор" not in me.said()


async def test_not_my_child_is_refused(chat_for, backend: SandboxBackend) -> None:
    alexey, polina = await persona(backend, "adult_son"), await persona(backend, "child")
    me: Chat = await chat_for(3110)
    await me.link_own(backend, alexey)
    await me.press(LinkStartCb(kind=LinkKind.CHILD).pack())
    await me.text("Полина")
    await me.text(polina.policy)
    await me.text(polina.birth_date.strftime("%d.%m.%Y"))
    assert "не указаны родителем" in me.said()


# --- privacy --------------------------------------------------------------------------------


async def test_privacy_counts_people_and_forget_revokes(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker, settings: Settings
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3120)
    await me.link_relative(backend, galina, label="Мама")
    await me.text("/privacy")
    assert "привязанных людей: 1" in me.said()
    await me.press("priv:fc")
    assert await backend.list_grants_received(requester_id_for(KEYS, 3120)) == []
    async with sessionmaker() as db:
        assert await db.scalar(select(LinkedPerson)) is None


async def test_appointments_only_grant_does_not_open_the_record(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(3130)
    await me.link_relative(backend, galina, label="Мама", scope=ScopeChoice.APPOINTMENTS)
    row = (await people_rows(sessionmaker, 3130))[0]
    requester = Requester(id=requester_id_for(KEYS, 3130), display_name="Иван")
    async with sessionmaker() as db:
        user = await db.get(User, row.user_id)
        assert user is not None
        ok = await people_service.check_access(
            db, backend, user, row.id, Scope.APPOINTMENTS, requester, now=clock()
        )
        assert ok.id == row.id
        with pytest.raises(AccessRefused) as refused:
            await people_service.check_access(
                db, backend, user, row.id, Scope.RECORDS, requester, now=clock()
            )
    assert refused.value.reason == AccessRefused.SCOPE


async def test_a_menu_tap_leaves_the_flow(
    chat_for, backend: SandboxBackend, dispatcher: Dispatcher, sessionmaker: SessionMaker
) -> None:
    me: Chat = await chat_for(3140)
    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    await me.share_contact("+7 900 000-01-40")
    await me.text("👨‍👩‍👧 Мои люди")  # not read as a policy number
    assert "<b>Мои люди</b>" in me.said()
    assert await fsm_data(dispatcher, me.bot, 3140) == {}
    async with sessionmaker() as db:
        assert await db.scalar(select(LinkDraft)) is None
