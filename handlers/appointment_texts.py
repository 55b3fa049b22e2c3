"""The appointments texts (`bot.flows.appointment_texts`) in the current aiogram locale, for
the Telegram code that is not a flow yet (slot watches) and the tests of the texts."""

from __future__ import annotations

from datetime import date, datetime

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from backend_client.models import Appointment, AppointmentStatus, Doctor, Specialty
from bot.flows import appointment_texts as texts
from bot.services.appointments.booking import Failure


class AiogramTr:
    """`bot.flows.appointment_texts.Tr` from aiogram's i18n context of this update."""

    @property
    def locale(self) -> str:
        return get_i18n().current_locale

    def gettext(self, msgid: str) -> str:
        return _(msgid)


TR = AiogramTr()


def specialty_name(specialty: Specialty) -> str:
    return texts.specialty_name(TR, specialty)


def when_text(moment: datetime) -> str:
    return texts.when_text(TR, moment)


def short_when(moment: datetime, today: date) -> str:
    return texts.short_when(TR, moment, today)


def short_day(day: date, today: date) -> str:
    return texts.short_day(TR, day, today)


def doctor_lines(doctor: Doctor) -> list[str]:
    return texts.doctor_lines(TR, doctor)


def who_line(label: str) -> str:
    return texts.who_line(TR, label)


def status_text(status: AppointmentStatus) -> str:
    return texts.status_text(TR, status)


def visit_line(appointment: Appointment, today: date, *, html: bool = True) -> str:
    return texts.visit_line(TR, appointment, today, html=html)


def past_line(appointment: Appointment, today: date) -> str:
    return texts.past_line(TR, appointment, today)


def stale_text() -> str:
    return texts.stale_text(TR)


def failure_text(failure: Failure) -> str:
    return texts.failure_text(TR, failure)
