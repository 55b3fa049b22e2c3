"""Texts of the appointments feature, built at call time in the user's language.

Times are shown in Moscow time through Babel; every backend value is escaped.
"""

from __future__ import annotations

from datetime import date, datetime

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date, format_datetime, format_time

from backend_client.models import Appointment, AppointmentStatus, Doctor, Referral
from bot.services.appointments.clock import MOSCOW
from handlers.access_texts import esc


def _locale() -> str:
    return get_i18n().current_locale


def when_text(moment: datetime) -> str:
    stamp = format_datetime(moment, "EEEE, d MMMM y, HH:mm", tzinfo=MOSCOW, locale=_locale())
    return _("{when} (Moscow time)").format(when=stamp)


def time_label(moment: datetime) -> str:
    return format_time(moment, "HH:mm", tzinfo=MOSCOW, locale=_locale())


def short_when(moment: datetime) -> str:
    return format_datetime(moment, "d MMM, HH:mm", tzinfo=MOSCOW, locale=_locale())


def day_title(day: date) -> str:
    return format_date(day, "EEEE, d MMMM", locale=_locale())


def short_day(day: date) -> str:
    return format_date(day, "d MMM", locale=_locale())


def doctor_lines(doctor: Doctor) -> list[str]:
    lines = [
        _("Doctor: {name}").format(name=esc(doctor.full_name)),
        _("Specialty: {name}").format(name=esc(doctor.specialty.name)),
        _("Clinic: {name}").format(name=esc(doctor.clinic.name)),
        _("Address: {address}").format(address=esc(doctor.clinic.address)),
    ]
    if doctor.cabinet:
        lines.append(_("Cabinet: {cabinet}").format(cabinet=esc(doctor.cabinet)))
    return lines


def doctor_button(doctor: Doctor) -> str:
    return f"{doctor.full_name} — {doctor.clinic.name}, {doctor.clinic.address}"


def referral_button(referral: Referral) -> str:
    return _("📄 Referral: {specialty} (until {date})").format(
        specialty=referral.specialty.name, date=short_day(referral.valid_until)
    )


def who_line(label: str) -> str:
    return _("Patient: {label}").format(label=esc(label))


def confirmation_text(label: str, doctor: Doctor, starts_at: datetime, moving: bool) -> str:
    head = _("<b>Move the appointment?</b>") if moving else _("<b>Check and confirm</b>")
    lines = [head, who_line(label), *doctor_lines(doctor)]
    lines.append(_("When: {when}").format(when=when_text(starts_at)))
    return "\n".join(lines)


def status_text(status: AppointmentStatus) -> str:
    return {
        AppointmentStatus.BOOKED: _("booked"),
        AppointmentStatus.MOVED: _("moved by the clinic"),
        AppointmentStatus.CANCELLED: _("cancelled"),
        AppointmentStatus.CANCELLED_BY_CLINIC: _("cancelled by the clinic"),
        AppointmentStatus.COMPLETED: _("completed"),
    }[status]


def visit_text(label: str, appointment: Appointment) -> str:
    lines = [
        _("<b>Appointment</b>"),
        who_line(label),
        *doctor_lines(appointment.doctor),
        _("When: {when}").format(when=when_text(appointment.starts_at)),
        _("Status: {status}").format(status=status_text(appointment.status)),
    ]
    if appointment.previous_starts_at is not None:
        lines.append(_("Was: {when}").format(when=when_text(appointment.previous_starts_at)))
    return "\n".join(lines)


def visit_line(appointment: Appointment, *, html: bool = True) -> str:
    """One line per visit; `html=False` for button texts (which are not parsed)."""
    quote = esc if html else str
    return _("{when} — {specialty}, {doctor}").format(
        when=short_when(appointment.starts_at),
        specialty=quote(appointment.doctor.specialty.name),
        doctor=quote(appointment.doctor.full_name),
    )


def past_line(appointment: Appointment) -> str:
    return _("{line} ({status})").format(
        line=visit_line(appointment), status=status_text(appointment.status)
    )


def ics_summary(appointment: Appointment) -> str:
    return _("Doctor's appointment: {specialty}").format(
        specialty=appointment.doctor.specialty.name
    )


def ics_location(doctor: Doctor) -> str:
    place = f"{doctor.clinic.name}, {doctor.clinic.address}"
    if doctor.cabinet:
        place += ", " + _("cabinet {cabinet}").format(cabinet=doctor.cabinet)
    return place


def stale_text() -> str:
    return _("This button is out of date. Here is a fresh start.")
