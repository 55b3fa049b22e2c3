"""Appointments through the real dispatcher against a real sandbox (one ManualClock for both):
honest answers to every refusal at confirm, reschedule and cancel (a referral used by someone
else, the clinic cancelling, the service down); the patient named when acting for someone
else; the header and the old time on the booking and rescheduling screens. The texts alone are
in test_appointment_texts.py."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from backend_client.errors import BackendUnavailable, InvalidRequest
from backend_client.models import Appointment
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.factory import create_dispatcher
from bot.i18n import create_i18n
from bot.keys import AppKeys
from bot.services.appointments import listing
from bot.services.appointments.clock import msk_date
from bot.settings import Settings
from handlers.appointment_texts import past_line, short_when
from keyboards.policies import ScopeChoice
from tests.recording_bot import RecordingSession
from tests.sandbox_fixtures import free_a_time, free_times
from tests.unit.appointments.support import (
    BOOK,
    VISITS,
    alerts_since,
    all_data,
    data_of,
    fsm,
    outsider_grant,
    screen,
    tap,
    tap_on,
    to_calendar,
    to_confirmation,
)
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, people_rows, persona
from tests.unit.records_support import buttons

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

I18N = create_i18n()


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=clock)


def in_locale(locale: str, call: Any) -> Any:
    with I18N.context(), I18N.use_locale(locale):
        return call()


# --- referral used by someone else ----------------------------------------------------------


async def _to_referral_confirmation(chat: Chat, backend: SandboxBackend) -> None:
    await to_confirmation(chat, backend, "ap:r:")


async def test_a_referral_used_by_another_person_gets_an_honest_answer_and_a_way_on(
    chat_for,
    backend: SandboxBackend,
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
) -> None:
    """Alexey and Viktor both book Galina with her referral; Viktor confirms first."""
    galina = await persona(backend, "elderly_mother")
    alexey: Chat = await chat_for(6201, "Алексей")
    viktor: Chat = await chat_for(6202, "Виктор")
    for chat in (alexey, viktor):
        await chat.link_relative(backend, galina, label="Мама", scope=ScopeChoice.APPOINTMENTS)
    await _to_referral_confirmation(alexey, backend)
    await _to_referral_confirmation(viktor, backend)
    bot = bot_and_session[0]
    referral = (await fsm(dispatcher, bot, 6201))["booking"]["referral_id"]
    assert referral and (await fsm(dispatcher, bot, 6202))["booking"]["referral_id"] == referral
    if (await fsm(dispatcher, bot, 6201))["booking"]["slot_id"] == (
        await fsm(dispatcher, bot, 6202)
    )["booking"]["slot_id"]:
        # Another time for Viktor: the referral is what matters. Another time the same day if
        # there is one, else the next free day (whatever day the test runs on).
        await tap(viktor, "ab:days")
        await tap(viktor, "cal:d:")
        if len(all_data(screen(viktor), "at:")) > 1:
            await tap(viktor, "at:", 1)
        else:
            await tap(viktor, "ab:days")
            days = all_data(screen(viktor), "cal:d:")
            months = all_data(screen(viktor), "cal:m:")
            if len(days) >= 2:
                await viktor.press(days[1])
            elif months:
                await viktor.press(months[-1])  # the calendar's next page
                await tap(viktor, "cal:d:")
            else:
                pytest.skip("one free time in the whole booking window today")
            await tap(viktor, "at:")
    await tap(viktor, "ab:ok:")
    assert "Запись создана:</b> Мама" in viktor.last_request("editMessageText").text

    since = len(alexey.rec.requests)
    await tap(alexey, "ab:ok:")
    assert any(
        "Это направление уже использовано (или закрыто)" in a
        for a in alerts_since(alexey.rec, since)
    )
    again = screen(alexey)
    assert "Это направление уже использовано" in again.text and "Пациент: Мама" in again.text
    assert data_of(again, "ap:s:")  # a specialty to go on with
    assert all(referral not in d for _t, d in buttons(again))
    assert "не найдено" not in again.text.lower()


async def test_a_referral_used_up_before_the_calendar_also_says_so(
    chat_for,
    backend: SandboxBackend,
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
) -> None:
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(6203, "Алексей")
    await me.link_relative(backend, galina, label="Мама", scope=ScopeChoice.APPOINTMENTS)
    await me.text(BOOK)
    referral_button = data_of(screen(me), "ap:r:")
    await me.press(referral_button)
    doctor = data_of(screen(me), "ap:d:")
    # Someone else books with it (at the backend, not through this bot).
    me.clock.advance(seconds=61)  # past the one-SMS-a-minute pause
    grant = await outsider_grant(backend, galina, "outsider-ref")
    referral = referral_button.split(":", 2)[2]
    doctor_id = doctor.split(":", 2)[2]
    free = await free_times(backend, doctor_id, me.clock())
    slot = free[0] if free else await free_a_time(backend, doctor_id, me.clock())
    await backend.book(grant, "outsider-ref", slot.slot_id, "outsider-key-ref", referral)

    await me.press(doctor)
    assert "Это направление уже использовано" in screen(me).text
    assert data_of(screen(me), "ap:s:")


# --- rescheduling ---------------------------------------------------------------------------


async def _booked(chat: Chat, backend: SandboxBackend, policy: str) -> Appointment:
    before = {v.appointment_id for v in await backend.appointments_of(policy)}
    await to_confirmation(chat, backend)
    await tap(chat, "ab:ok:")
    [visit] = [v for v in await backend.appointments_of(policy) if v.appointment_id not in before]
    return visit


async def test_reschedule_screens_show_the_old_time_and_the_time_screen_has_a_header(
    chat_for, backend: SandboxBackend, clock: FrozenClock
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6204, "Олег")
    await me.link_own(backend, oleg)
    visit = await _booked(me, backend, oleg.policy)
    # The steps before moved the clock (SMS pauses): "today" is the clock's now, not its start.
    old = in_locale("ru", lambda: short_when(visit.starts_at, msk_date(clock())))

    await me.text(VISITS)
    await tap_on(me, "av:v:", visit.appointment_id)
    await tap(me, "av:m:")
    assert f"Переносим запись с {old}" in screen(me).text
    await tap(me, "cal:d:")
    times = screen(me)
    assert "Пациент:" in times.text and "Врач:" in times.text and "Переносим запись с" in times.text
    assert "✖ Отмена" in [t for t, _d in buttons(times)]
    await tap(me, "at:")
    confirm = screen(me).text
    assert "Перенести запись?" in confirm and f"Перенос: с {old} на " in confirm
    await tap(me, "ab:ok:")
    done = me.last_request("editMessageText").text
    assert "Запись перенесена:" in done and "Было:" in done


async def test_the_time_screen_of_a_booking_has_a_header_and_cancel(
    chat_for, backend: SandboxBackend
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6205, "Олег")
    await me.link_own(backend, oleg)
    await to_calendar(me, backend)
    await tap(me, "cal:d:")
    times = screen(me)
    assert "Пациент:" in times.text and "Врач:" in times.text and "Адрес:" in times.text
    await tap(me, "ab:x")
    assert "Ничего не записано" in me.last_request("editMessageText").text


async def test_the_clinic_cancels_while_rescheduling(chat_for, backend: SandboxBackend) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6206, "Олег")
    await me.link_own(backend, oleg)
    visit = await _booked(me, backend, oleg.policy)
    await me.text(VISITS)
    await tap_on(me, "av:v:", visit.appointment_id)
    await tap(me, "av:m:")
    await tap(me, "cal:d:")
    await tap(me, "at:")
    await backend.clinic_cancel(visit.appointment_id)

    since = len(me.rec.requests)
    await tap(me, "ab:ok:")
    assert any("Эту запись уже нельзя изменить" in a for a in alerts_since(me.rec, since))
    card = screen(me)
    assert "Статус: отменена поликлиникой" in card.text
    assert [t for t, _d in buttons(card)] == ["⬅️ Назад"]


async def test_the_service_down_at_confirm_keeps_the_screen_and_books_once(
    chat_for, backend: SandboxBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6207, "Олег")
    await me.link_own(backend, oleg)
    before = {v.appointment_id for v in await backend.appointments_of(oleg.policy)}
    await to_confirmation(me, backend)
    confirm = data_of(screen(me), "ab:ok:")
    real_book = backend.book

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise BackendUnavailable("down in tests")

    monkeypatch.setattr(backend, "book", down)
    since = len(me.rec.requests)
    await me.press(confirm)
    assert any("не отвечает" in a for a in alerts_since(me.rec, since))
    assert data_of(screen(me), "ab:ok:") == confirm  # the same confirmation, still there

    monkeypatch.setattr(backend, "book", real_book)
    await me.press(confirm)
    new = [v for v in await backend.appointments_of(oleg.policy) if v.appointment_id not in before]
    assert len(new) == 1


# --- my appointments ------------------------------------------------------------------------


async def test_booking_for_mum_names_her_and_the_visit_card_goes_back_to_the_list(
    chat_for, backend: SandboxBackend
) -> None:
    anna = await persona(backend, "mother")
    galina = await persona(backend, "elderly_mother")
    me: Chat = await chat_for(6208, "Анна")
    await me.link_own(backend, anna)
    await me.link_relative(backend, galina, label="Мама", scope=ScopeChoice.APPOINTMENTS)
    before = {v.appointment_id for v in await backend.appointments_of(galina.policy)}
    await to_confirmation(me, backend, "ap:s:", who=1)
    await tap(me, "ab:ok:")
    done = me.last_request("editMessageText").text
    assert "✅ <b>Запись создана:</b> Мама" in done and "Вы записаны" not in done
    [visit] = [
        v for v in await backend.appointments_of(galina.policy) if v.appointment_id not in before
    ]

    await me.text(VISITS)
    await tap(me, "aw:l:0")  # everyone together
    await tap_on(me, "av:v:", visit.appointment_id)
    card = screen(me)
    assert "Статус: активна" in card.text
    await me.press(data_of(card, "aw:l:"))
    back = me.last_request("editMessageText")
    assert "Мои записи" in back.text and "Анна" in back.text and "Мама" in back.text


async def test_cancel_refused_by_the_backend_is_told_honestly(
    chat_for, backend: SandboxBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6209, "Олег")
    await me.link_own(backend, oleg)
    visit = await _booked(me, backend, oleg.policy)
    await me.text(VISITS)
    await tap_on(me, "av:v:", visit.appointment_id)
    await tap(me, "av:c:")
    yes = data_of(screen(me), "av:cc:")

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise BackendUnavailable("down in tests")

    monkeypatch.setattr(backend, "cancel_appointment", down)
    since = len(me.rec.requests)
    await me.press(yes)
    assert any("Запись пока не отменена" in a for a in alerts_since(me.rec, since))
    assert data_of(screen(me), "av:cc:") == yes  # the question stays for another try
    monkeypatch.undo()

    # Past by the time "Yes" is pressed (the backend refuses with appointment_id).
    async def past(*args: Any, **kwargs: Any) -> Any:
        raise InvalidRequest("appointment_id")

    monkeypatch.setattr(backend, "cancel_appointment", past)
    since = len(me.rec.requests)
    await me.press(yes)
    assert any("уже нельзя изменить" in a for a in alerts_since(me.rec, since))


async def test_a_visit_that_is_gone_shows_the_list(
    chat_for, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6210, "Олег")
    await me.link_own(backend, oleg)
    await me.text(VISITS)
    [row] = await people_rows(sessionmaker, 6210)
    since = len(me.rec.requests)
    await me.press(f"av:v:{row.id}:a000000000000")
    assert any("больше нет в списке" in a for a in alerts_since(me.rec, since))
    assert "Мои записи" in me.last_request("editMessageText").text


async def test_past_visits_of_another_year_carry_it(chat_for, backend: SandboxBackend) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6211, "Олег")
    await me.link_own(backend, oleg)
    await me.text(VISITS)
    text = me.rec.texts()[-1]
    today = msk_date(me.clock())
    past = sorted(
        (v for v in await backend.appointments_of(oleg.policy) if not v.is_active),
        key=lambda v: v.starts_at,
        reverse=True,
    )[: listing.PAST_SHOWN]
    assert past
    for visit in past:
        line = in_locale("ru", lambda v=visit: past_line(v, today))
        assert line in text
        other_year = msk_date(visit.starts_at).year != today.year
        assert (f" {msk_date(visit.starts_at).year}," in line) is other_year
    # Newest first.
    assert [text.index(in_locale("ru", lambda v=v: past_line(v, today))) for v in past] == sorted(
        text.index(in_locale("ru", lambda v=v: past_line(v, today))) for v in past
    )
