"""Linking: the one-minute SMS pause keeps the answers and offers "Send the
code"; the hourly/daily caps end the attempt and say when; menu buttons say they cancelled the
linking; policy numbers and codes nobody asked for leave the chat; the owner's SMS does not pass
off a Telegram name as verified; a "child" of 15+ goes on as a relative; stale buttons answer
honestly; children are removed and re-added truthfully."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.db.models import LinkDraft, User
from bot.keys import AppKeys
from bot.services import linking, linking_sms
from handlers.policies import LinkFlow
from keyboards.people import PersonAction, PersonCb
from keyboards.policies import (
    AsRelativeCb,
    CodeAction,
    CodeCb,
    LinkKind,
    LinkStartCb,
    ScopeCb,
    ScopeChoice,
    TermCb,
    TermChoice,
)
from keyboards.start import ConsentAction, ConsentCb
from tests.conftest import TEST_KEY
from tests.recording_bot import RecordingSession
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, last_code, people_rows, persona
from tests.updates import tg_user

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

KEYS = AppKeys(TEST_KEY)
SEND = CodeCb(action=CodeAction.SEND).pack()
PAUSED = "Код можно будет отправить через"


def key(bot: Bot, telegram_id: int) -> StorageKey:
    return StorageKey(bot_id=bot.id, chat_id=telegram_id, user_id=telegram_id)


async def fsm_state(dispatcher: Dispatcher, chat: Chat) -> str | None:
    return await dispatcher.storage.get_state(key(chat.bot, chat.user.id))


async def drafts(sessionmaker: SessionMaker) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(LinkDraft)) or 0)


def deletions(chat: Chat) -> int:
    return len(chat.rec.sent("deleteMessage"))


def markup_data(request: object) -> list[str]:
    markup = getattr(request, "reply_markup", None)
    rows = getattr(markup, "inline_keyboard", None) or []
    return [str(b.callback_data) for row in rows for b in row]


# --- the one-minute pause and the caps --------------------------------------------------------


async def test_pause_after_my_own_link_keeps_the_answers_and_sends_on_the_button(
    chat_for, backend: SandboxBackend, clock: FrozenClock, dispatcher: Dispatcher
) -> None:
    anna, galina = await persona(backend, "mother"), await persona(backend, "elderly_mother")
    me: Chat = await chat_for(8001, "Анна")
    await me.link_own(backend, anna)
    await me.request_relative(galina, label="Мама")  # straight away: the SMS pause
    said = me.said()
    assert PAUSED in said and "Ваши ответы сохранены" in said and "секунд" in said
    assert markup_data(me.last_request("sendMessage")) == [SEND]
    assert await fsm_state(dispatcher, me) == LinkFlow.send.state

    # An old code typed meanwhile does not stay in the chat, and the bot says what to do.
    before = deletions(me)
    await me.text("123456")
    assert deletions(me) == before + 1
    assert "Код ещё не отправлен" in me.said() and "Отправить код" in me.said()

    # Pressed too early: an honest alert with the seconds left; nothing is lost.
    clock.advance(seconds=20)
    await me.press(SEND)
    assert me.alerts()[-1].startswith(PAUSED) and "секунд" in me.alerts()[-1]
    assert await fsm_state(dispatcher, me) == LinkFlow.send.state

    clock.advance(seconds=41)
    await me.press(SEND)
    assert "Код отправлен" in me.alerts()[-1]
    assert "на телефон владельца полиса" in me.said()
    await me.text(await last_code(backend, galina.phone))
    assert "«Мама» теперь в разделе «Мои люди»" in " ".join(me.rec.texts()[-2:])


async def test_owner_linking_right_after_a_relatives_request_waits_for_the_pause(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    daughter: Chat = await chat_for(8002, "Анна")
    await daughter.request_relative(galina)  # an SMS to Galina's phone just went out
    owner: Chat = await chat_for(8003, "Галина")
    await owner.press(LinkStartCb(kind=LinkKind.SELF).pack())
    await owner.share_contact("+7 900 000-80-03")
    await owner.text(galina.policy)
    await owner.text(galina.birth_date.strftime("%d.%m.%Y"))
    assert PAUSED in owner.said()
    clock.advance(seconds=61)
    await owner.press(SEND)
    assert "привязанный к вашей медкарте" in owner.said()
    await owner.text(await last_code(backend, galina.phone))
    assert "ваша медкарта привязана" in owner.said()


async def test_start_over_after_wrong_codes_also_gets_the_button(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(8004)
    await me.request_relative(galina)
    code = await last_code(backend, galina.phone)
    for attempt in range(5):
        await me.text(f"{(int(code) + 1 + attempt) % 1_000_000:06d}")
    assert "Слишком много неверных кодов" in me.said()
    await me.press(CodeCb(action=CodeAction.RESTART).pack())
    await me.text(galina.policy)
    await me.text(galina.birth_date.strftime("%d.%m.%Y"))
    await me.press(ScopeCb(scope=ScopeChoice.RECORDS).pack())
    await me.press(TermCb(term=TermChoice.MONTH).pack())
    assert PAUSED in me.said()
    clock.advance(seconds=61)
    await me.press(SEND)
    assert "Мы отправили код" in me.said()


async def test_hourly_cap_ends_the_attempt_and_says_when(
    chat_for,
    backend: SandboxBackend,
    clock: FrozenClock,
    dispatcher: Dispatcher,
    sessionmaker: SessionMaker,
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(8005)
    for _ in range(3):
        await me.request_relative(galina)
        clock.advance(seconds=61)
    await me.request_relative(galina)
    said = me.said()
    assert "слишком много кодов: не больше 3 в час и 10 в сутки" in said
    assert "Эта попытка завершена" in said and "Попробуйте снова через 5" in said
    assert await fsm_state(dispatcher, me) is None
    assert await drafts(sessionmaker) == 0


async def test_daily_cap_names_a_moscow_time(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(8006)
    for _ in range(10):
        await me.request_relative(galina)
        clock.advance(minutes=21)
    await me.request_relative(galina)
    said = me.said()
    assert "Эта попытка завершена" in said and "(по московскому времени)" in said
    assert "Попробуйте снова сегодня после" in said or "Попробуйте снова завтра после" in said


# --- leaving the flow, and what must not stay in the chat -------------------------------------


async def test_menu_button_says_linking_was_cancelled_and_a_late_policy_is_deleted(
    chat_for,
    backend: SandboxBackend,
    dispatcher: Dispatcher,
    sessionmaker: SessionMaker,
) -> None:
    anna = await persona(backend, "mother")
    me: Chat = await chat_for(8010)
    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    await me.share_contact("+7 900 000-80-10")
    sent = len(me.rec.texts())
    await me.text("🩺 Медкарта")
    texts = me.rec.texts()[sent:]
    assert texts[0] == "Привязка полиса отменена." and len(texts) == 2  # then the new screen
    assert await fsm_state(dispatcher, me) is None
    assert await drafts(sessionmaker) == 0

    before = deletions(me)
    await me.text(anna.policy)
    assert deletions(me) == before + 1
    assert "похоже, это номер полиса ОМС" in me.said() and "«Мои люди»" in me.said()


async def test_help_keeps_the_flow_and_commands_leave_it(
    chat_for, backend: SandboxBackend, dispatcher: Dispatcher
) -> None:
    anna = await persona(backend, "mother")
    me: Chat = await chat_for(8011)
    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    await me.share_contact("+7 900 000-80-11")
    await me.text("❓ Помощь")
    assert "Привязка полиса отменена." not in me.rec.texts()
    await me.text(anna.policy)
    assert "Полис принят" in me.said()
    await me.text("/people")
    assert "Привязка полиса отменена." in me.rec.texts()
    assert "Мои люди" in me.said()
    assert await fsm_state(dispatcher, me) is None


async def test_policy_where_a_contact_or_a_name_is_expected_is_deleted(
    chat_for, backend: SandboxBackend, dispatcher: Dispatcher
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(8012)
    await me.press(LinkStartCb(kind=LinkKind.RELATIVE).pack())
    before = deletions(me)
    await me.text(galina.policy)
    assert deletions(me) == before + 1
    assert "номер полиса" in me.said() and "поделитесь номером" in me.said()
    assert me.last_request("sendMessage").reply_markup.keyboard[0][0].request_contact
    assert await fsm_state(dispatcher, me) == LinkFlow.phone.state

    await me.share_contact("+7 900 000-80-12")
    await me.text(f"{galina.policy[:4]} {galina.policy[4:]}")  # where the name is asked
    assert deletions(me) == before + 3  # the contact, then the policy
    assert "Сначала напишите, как подписать" in me.said()
    assert await fsm_state(dispatcher, me) == LinkFlow.label.state


async def test_code_nobody_asked_for_is_deleted_even_before_consent(
    chat_for,
    backend: SandboxBackend,
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    clock: FrozenClock,
) -> None:
    me: Chat = await chat_for(8013)
    before = deletions(me)
    await me.text("914 946")
    assert deletions(me) == before + 1 and "похоже, это код из СМС" in me.said()
    await me.text("hello")
    assert deletions(me) == before + 1 and "Не понял вас" in me.said()

    bot, rec = bot_and_session
    stranger = Chat(dispatcher, bot, rec, tg_user(8014), clock)  # never sent /start
    await stranger.text("7709 4703 6223 4357")
    assert deletions(stranger) == before + 2 and "/start" in stranger.said()


# --- who the owner's SMS names ----------------------------------------------------------------


async def test_sms_marks_a_telegram_name_as_unverified_and_uses_the_own_card_otherwise(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    galina, anna = await persona(backend, "elderly_mother"), await persona(backend, "mother")
    impostor: Chat = await chat_for(8020, "Поликлиника «№ 5»")
    await impostor.request_relative(galina)
    sms = (await backend.sms_outbox(galina.phone))[0].text
    assert "Пользователь Telegram «Поликлиника № 5» (имя не проверено) запрашивает" in sms

    clock.advance(minutes=2)
    daughter: Chat = await chat_for(8021, "Поликлиника")
    await daughter.link_own(backend, anna)
    await daughter.link_relative(backend, galina)
    sms = next(s.text for s in await backend.sms_outbox(galina.phone) if "Код" in s.text)
    assert "Поликлиника" not in sms and "Анна" in sms


def test_unverified_name_is_marked_short_and_cannot_close_the_quotes() -> None:
    assert linking_sms.unverified_requester_name("Alexey") == (
        "Пользователь Telegram «Alexey» (имя не проверено)"
    )
    crafted = linking_sms.unverified_requester_name("Иван» (проверено) «" + "я" * 80)
    assert crafted.count("«") == 1 and crafted.count("»") == 1 and len(crafted) <= 64
    assert linking_sms.unverified_requester_name(" «» ") == "Пользователь Telegram без имени"


def test_what_looks_like_a_policy_or_a_code() -> None:
    assert linking.looks_sensitive("7709 4703-6223 4357") is linking.Sensitive.POLICY
    assert linking.looks_sensitive("914 946") is linking.Sensitive.CODE
    for text in ("04.10.1988", "+7 925 360-01-24", "12345", "Мама", None, ""):
        assert linking.looks_sensitive(text) is None


def test_short_pause_and_age() -> None:
    assert linking_sms.is_short_pause(58) and not linking_sms.is_short_pause(3000)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert (
        linking_sms.seconds_until(linking_sms.send_after(now, 30), now + timedelta(seconds=10))
        == 20
    )
    assert linking_sms.seconds_until(None, now) == 0
    assert linking.child_age_ok(date(2011, 6, 2), date(2026, 6, 1))
    assert not linking.child_age_ok(date(2011, 6, 1), date(2026, 6, 1))


# --- an adult added as a child ----------------------------------------------------------------


async def test_adult_as_a_child_is_offered_the_relatives_way_with_the_same_answers(
    chat_for, backend: SandboxBackend, clock: FrozenClock, sessionmaker: SessionMaker
) -> None:
    anna, viktor = await persona(backend, "mother"), await persona(backend, "elderly_father")
    me: Chat = await chat_for(8030, "Анна")
    await me.link_own(backend, anna)
    await me.press(LinkStartCb(kind=LinkKind.CHILD).pack())
    await me.text("Папа")
    await me.text(viktor.policy)
    await me.text(viktor.birth_date.strftime("%d.%m.%Y"))
    said = me.said()
    assert said.startswith("Этому человеку уже исполнилось 15 лет — добавьте его как родственника")
    assert "родителем" not in said
    assert markup_data(me.last_request("sendMessage")) == [AsRelativeCb().pack()]

    await me.press(AsRelativeCb().pack())
    assert "Что вам можно делать с этой медкартой?" in me.said()
    clock.advance(seconds=61)
    await me.press(ScopeCb(scope=ScopeChoice.APPOINTMENTS).pack())
    await me.press(TermCb(term=TermChoice.YEAR).pack())
    assert "на телефон владельца полиса" in me.said()
    await me.text(await last_code(backend, viktor.phone))
    assert "«Папа» теперь в разделе «Мои люди»" in " ".join(me.rec.texts()[-2:])
    relations = sorted(r.relation for r in await people_rows(sessionmaker, 8030))
    assert relations == ["relative", "self"]


# --- stale buttons ----------------------------------------------------------------------------


async def test_old_my_own_policy_button_shows_the_card_and_keeps_what_was_open(
    chat_for, backend: SandboxBackend, dispatcher: Dispatcher
) -> None:
    anna = await persona(backend, "mother")
    me: Chat = await chat_for(8040, "Анна")
    await me.link_own(backend, anna)
    sms_before = len(await backend.sms_outbox(anna.phone))
    await dispatcher.storage.set_state(key(me.bot, 8040), "Booking:slot")
    await dispatcher.storage.set_data(key(me.bot, 8040), {"doctor": "d03"})

    await me.press(LinkStartCb(kind=LinkKind.SELF).pack())
    assert me.said().startswith("Ваша медкарта уже привязана:") and "Анна С." in me.said()
    assert len(await backend.sms_outbox(anna.phone)) == sms_before
    assert await fsm_state(dispatcher, me) == "Booking:slot"
    assert await dispatcher.storage.get_data(key(me.bot, 8040)) == {"doctor": "d03"}


async def test_old_decline_button_after_agreeing_is_answered_honestly(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    me: Chat = await chat_for(8041)
    await me.press(ConsentCb(action=ConsentAction.DECLINE).pack())
    assert "Вы уже дали согласие" in me.said() and "/privacy" in me.said()
    assert "ничего о вас не сохранит" not in me.said()
    async with sessionmaker() as db:
        user = await db.scalar(select(User).where(User.telegram_id == 8041))
        assert user is not None and user.has_consent


# --- children: removing and adding again ------------------------------------------------------


async def test_child_added_again_is_kept_and_removing_needs_no_code_to_undo(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    anna, egor = await persona(backend, "mother"), await persona(backend, "teen_turning_15")
    me: Chat = await chat_for(8050, "Анна")
    await me.link_own(backend, anna)
    for label in ("Егор", "Егорка"):
        await me.press(LinkStartCb(kind=LinkKind.CHILD).pack())
        await me.text(label)
        await me.text(egor.policy)
        await me.text(egor.birth_date.strftime("%d.%m.%Y"))
    assert "уже есть в разделе «Мои люди» под именем «Егор»" in me.said()
    [child] = [r for r in await people_rows(sessionmaker, 8050) if r.relation == "child"]
    grants = await backend.list_grants_received(requester_id_for(KEYS, 8050))
    assert [g.grant_id for g in grants if g.patient_id == egor.patient_id] == [child.grant_id]

    await me.press(PersonCb(action=PersonAction.UNLINK, id=child.id).pack())
    assert "без кода" in me.said() and "новый код" not in me.said()
