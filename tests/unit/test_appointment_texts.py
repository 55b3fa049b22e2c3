"""Appointments on the texts alone: dates with their year, status words, English specialty
names, a short answer for every refusal and the backend error each one stands for, and the
order of the list (soonest first, then newest past first)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from backend_client.errors import (
    AccessDenied,
    BackendUnavailable,
    InvalidRequest,
    NotFound,
    RateLimited,
    SlotTaken,
)
from backend_client.models import Appointment, AppointmentStatus, Clinic, Doctor, Specialty
from bot.i18n import create_i18n
from bot.services.appointments import booking, listing
from bot.services.appointments.booking import Failure, ReferralGone
from handlers.appointment_texts import (
    doctor_lines,
    failure_text,
    past_line,
    short_when,
    status_text,
    visit_line,
)

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

I18N = create_i18n()


def in_locale(locale: str, call: Any) -> Any:
    with I18N.context(), I18N.use_locale(locale):
        return call()


def a_visit(
    starts_at: datetime, status: AppointmentStatus = AppointmentStatus.COMPLETED
) -> Appointment:
    return Appointment(
        appointment_id="a1",
        patient_id="p1",
        doctor=Doctor(
            doctor_id="d1",
            full_name="Киселёва Анна Владимировна",
            specialty=Specialty(code="cardiologist", name="Кардиолог", needs_referral=True),
            clinic=Clinic(clinic_id="c1", name="ГП № 1", address="ул. Ленина, 1"),
            cabinet="335",
        ),
        slot_id="s1",
        starts_at=starts_at,
        duration_min=20,
        status=status,
    )


# --- texts ----------------------------------------------------------------------------------


def test_a_date_outside_this_year_carries_its_year() -> None:
    today = date(2026, 11, 23)
    this_year = datetime(2026, 8, 20, 7, 45, tzinfo=UTC)
    last_year = datetime(2025, 10, 20, 7, 30, tzinfo=UTC)
    assert in_locale("ru", lambda: short_when(this_year, today)) == "20 авг., 10:45"
    assert in_locale("ru", lambda: short_when(last_year, today)) == "20 окт. 2025, 10:30"
    line = in_locale("ru", lambda: past_line(a_visit(last_year), today))
    assert line.startswith("20 окт. 2025, 10:30 — Кардиолог") and line.endswith("(состоялась)")
    # New Year's Eve in Moscow is already the next year there.
    eve = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)
    assert "2027" in in_locale("ru", lambda: short_when(eve, today))


def test_status_words_agree_with_zapis() -> None:
    words = {s: in_locale("ru", lambda s=s: status_text(s)) for s in AppointmentStatus}
    assert words[AppointmentStatus.BOOKED] == "активна"
    assert words[AppointmentStatus.CANCELLED] == "отменена"
    assert words[AppointmentStatus.COMPLETED] == "состоялась"
    assert words[AppointmentStatus.CANCELLED_BY_CLINIC] == "отменена поликлиникой"


def test_english_names_the_specialty_and_the_room() -> None:
    visit = a_visit(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    english = in_locale("en", lambda: "\n".join(doctor_lines(visit.doctor)))
    assert "Specialty: Cardiologist" in english and "Room: 335" in english
    assert "Кардиолог" not in english
    russian = in_locale("ru", lambda: "\n".join(doctor_lines(visit.doctor)))
    assert "Специальность: Кардиолог" in russian and "Кабинет: 335" in russian
    # A code the bot does not know keeps the backend's name.
    other = visit.doctor.specialty.model_copy(update={"code": "allergist", "name": "Аллерголог"})
    line = in_locale(
        "en",
        lambda: visit_line(
            visit.model_copy(
                update={"doctor": visit.doctor.model_copy(update={"specialty": other})}
            ),
            date(2026, 11, 23),
        ),
    )
    assert "Аллерголог" in line


def test_every_failure_has_its_own_short_answer() -> None:
    texts = {f: in_locale("ru", lambda f=f: failure_text(f)) for f in Failure}
    assert len(set(texts.values())) == len(Failure)
    assert all(len(t) <= 200 for t in texts.values())  # a Telegram alert
    assert texts[Failure.REFERRAL_GONE] == (
        "Это направление уже использовано (или закрыто) — выберите другое направление или "
        "специальность."
    )


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (SlotTaken(), Failure.SLOT_TAKEN),
        (ReferralGone(), Failure.REFERRAL_GONE),
        (BackendUnavailable(), Failure.UNAVAILABLE),
        (RateLimited(30), Failure.UNAVAILABLE),
        (AccessDenied(reason=AccessDenied.REASON_REFERRAL_REQUIRED), Failure.REFERRAL_REQUIRED),
        (AccessDenied(reason=AccessDenied.REASON_GRANT_INACTIVE), Failure.NO_ACCESS),
        (AccessDenied(reason=AccessDenied.REASON_SCOPE), Failure.NO_ACCESS),
        (InvalidRequest("appointment_id"), Failure.VISIT_FIXED),
        (InvalidRequest("referral_id"), Failure.REFERRAL_MISMATCH),
        (InvalidRequest("slot_id"), Failure.NOT_ALLOWED),
        (InvalidRequest("new_slot_id"), Failure.OTHER_SPECIALTY),
        (InvalidRequest("idempotency_key"), Failure.RETRY),
        (NotFound(), Failure.SLOT_TAKEN),
    ],
)
def test_each_backend_error_of_book_move_cancel_means_something(
    error: Exception, failure: Failure
) -> None:
    assert booking.failure_of(error) is failure  # type: ignore[arg-type]


class _Listed:
    """A backend that lists visits in an order of its own."""

    def __init__(self, visits: list[Appointment]) -> None:
        self.visits = visits

    async def list_appointments(self, grant_id: str, requester_id: str, *, upcoming: bool) -> Any:
        return [v for v in self.visits if (v.status is AppointmentStatus.BOOKED) == upcoming]


async def test_the_list_is_soonest_first_then_newest_past_first() -> None:
    at = [datetime(2026, m, 1, 7, 0, tzinfo=UTC) for m in (12, 11, 1)] + [
        datetime(2025, 10, 20, 7, 0, tzinfo=UTC),
        datetime(2026, 8, 20, 7, 0, tzinfo=UTC),
    ]
    visits = [
        a_visit(at[0], AppointmentStatus.BOOKED).model_copy(update={"appointment_id": "u2"}),
        a_visit(at[1], AppointmentStatus.BOOKED).model_copy(update={"appointment_id": "u1"}),
        a_visit(at[3]).model_copy(update={"appointment_id": "p2"}),
        a_visit(at[4]).model_copy(update={"appointment_id": "p1"}),
        a_visit(at[2]).model_copy(update={"appointment_id": "p3"}),
    ]
    found = await listing.visits(_Listed(visits), "g", "r")  # type: ignore[arg-type]
    assert [v.appointment_id for v in found.upcoming] == ["u1", "u2"]
    assert [v.appointment_id for v in found.past] == ["p1", "p3", "p2"]
