"""Texts of the appointments feature, channel-neutral, built at call time in the reader's
language (`t`: a `FlowContext`, or any object with `gettext` and `locale`).

Times are shown in Moscow time through Babel; a short date carries its year when it is not in
the current (Moscow) year, so "20 Aug" and "20 Oct 2025" never look like the same season.
Every backend value is escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Protocol

from babel.dates import format_date, format_datetime, format_time

from backend_client.models import Appointment, AppointmentStatus, Doctor, Referral, Specialty
from bot.flows.access_texts import esc
from bot.flows.screens import N_
from bot.services.appointments.booking import Failure
from bot.services.appointments.clock import MOSCOW, msk_date


class Tr(Protocol):
    """What a text needs: the reader's language (`FlowContext` is one)."""

    @property
    def locale(self) -> str: ...

    def gettext(self, msgid: str) -> str: ...


SPECIALTY_NAMES = {
    "therapist": N_("General practitioner"),  # терапевт (участковый): the GP of Moscow clinics
    "gp": N_("Family doctor"),  # врач общей практики
    "pediatrician": N_("Paediatrician"),
    "ophthalmologist": N_("Ophthalmologist"),
    "surgeon": N_("Surgeon"),
    "ent": N_("ENT doctor"),
    "urologist": N_("Urologist"),
    "gynecologist": N_("Obstetrician-gynaecologist"),
    "dentist": N_("Dentist"),
    "cardiologist": N_("Cardiologist"),
    "endocrinologist": N_("Endocrinologist"),
    "neurologist": N_("Neurologist"),
    "gastroenterologist": N_("Gastroenterologist"),
}
"""Names of the specialties the backend knows by code (msgids); the backend's own names are
Russian."""


def specialty_name(t: Tr, specialty: Specialty) -> str:
    """The backend's (Russian) name in Russian; elsewhere ours by code, else the backend's."""
    if t.locale.startswith("ru") or specialty.code not in SPECIALTY_NAMES:
        return specialty.name
    return t.gettext(SPECIALTY_NAMES[specialty.code])


def _same_year(day: date, today: date) -> bool:
    return day.year == today.year


def when_text(t: Tr, moment: datetime) -> str:
    stamp = format_datetime(moment, "EEEE, d MMMM y, HH:mm", tzinfo=MOSCOW, locale=t.locale)
    return t.gettext("{when} (Moscow time)").format(when=stamp)


def time_label(t: Tr, moment: datetime) -> str:
    return format_time(moment, "HH:mm", tzinfo=MOSCOW, locale=t.locale)


def short_when(t: Tr, moment: datetime, today: date) -> str:
    """ "20 Aug, 10:45"; with the year when it is not `today`'s year (Moscow time)."""
    pattern = "d MMM, HH:mm" if _same_year(msk_date(moment), today) else "d MMM y, HH:mm"
    return format_datetime(moment, pattern, tzinfo=MOSCOW, locale=t.locale)


def day_title(t: Tr, day: date, today: date) -> str:
    pattern = "EEEE, d MMMM" if _same_year(day, today) else "EEEE, d MMMM y"
    return format_date(day, pattern, locale=t.locale)


def short_day(t: Tr, day: date, today: date) -> str:
    return format_date(day, "d MMM" if _same_year(day, today) else "d MMM y", locale=t.locale)


def doctor_lines(t: Tr, doctor: Doctor) -> list[str]:
    _ = t.gettext
    lines = [
        _("Doctor: {name}").format(name=esc(doctor.full_name)),
        _("Specialty: {name}").format(name=esc(specialty_name(t, doctor.specialty))),
        _("Clinic: {name}").format(name=esc(doctor.clinic.name)),
        _("Address: {address}").format(address=esc(doctor.clinic.address)),
    ]
    if doctor.cabinet:
        lines.append(_("Room: {cabinet}").format(cabinet=esc(doctor.cabinet)))
    return lines


def short_name(full_name: str) -> str:
    """ "Иванова Анна Сергеевна" → "Иванова А. С." (a button must fit a phone's width)."""
    surname, *given = full_name.split()
    return " ".join([surname, *(f"{name[0]}." for name in given if name)])


def nearest_label(t: Tr, moment: datetime | None, today: date) -> str:
    """ "today 10:30", "tomorrow 10:30", "4 Dec 10:30" (Moscow time); "no free times"."""
    _ = t.gettext
    if moment is None:
        return _("no free times")
    day, time = msk_date(moment), time_label(t, moment)
    if day == today:
        return _("today {time}").format(time=time)
    if (day - today).days == 1:
        return _("tomorrow {time}").format(time=time)
    return f"{short_day(t, day, today)} {time}"


def doctor_button(t: Tr, doctor: Doctor, nearest: datetime | None, today: date) -> str:
    """ "🏠 Иванова А. С. · tomorrow 10:30": short; the clinic is in the message text."""
    mark = "🏠 " if doctor.district else ""
    return f"{mark}{short_name(doctor.full_name)} · {nearest_label(t, nearest, today)}"


def doctor_choice_line(t: Tr, doctor: Doctor) -> str:
    """One line of the doctor list's text: who, where (what the short button leaves out)."""
    mark = "🏠 " if doctor.district else ""
    place = f"{doctor.clinic.name}, {doctor.clinic.address}"
    if doctor.cabinet:
        place += ", " + t.gettext("room {cabinet}").format(cabinet=doctor.cabinet)
    return f"{mark}{esc(short_name(doctor.full_name))} — {esc(place)}"


def referral_button(t: Tr, referral: Referral, today: date) -> str:
    return t.gettext("📄 Referral: {specialty} (until {date})").format(
        specialty=specialty_name(t, referral.specialty),
        date=short_day(t, referral.valid_until, today),
    )


def who_line(t: Tr, label: str) -> str:
    return t.gettext("Patient: {label}").format(label=esc(label))


def move_line(t: Tr, before: datetime, after: datetime, today: date) -> str:
    """ "Move: from 24 Nov, 09:00 to 2 Dec, 10:20"."""
    return t.gettext("Move: from {before} to {after}").format(
        before=short_when(t, before, today), after=short_when(t, after, today)
    )


def moving_from_line(t: Tr, before: datetime, today: date) -> str:
    return t.gettext("Moving the appointment of {when}.").format(when=short_when(t, before, today))


def confirmation_text(
    t: Tr,
    label: str,
    doctor: Doctor,
    starts_at: datetime,
    today: date,
    *,
    moving: bool = False,
    moving_from: datetime | None = None,
) -> str:
    """`moving_from`: the visit's time now, when rescheduling (`moving`)."""
    _ = t.gettext
    head = _("<b>Move the appointment?</b>") if moving else _("<b>Check and confirm</b>")
    lines = [head, who_line(t, label), *doctor_lines(t, doctor)]
    lines.append(_("When: {when}").format(when=when_text(t, starts_at)))
    if moving and moving_from is not None:
        lines.append(move_line(t, moving_from, starts_at, today))
    return "\n".join(lines)


def status_text(t: Tr, status: AppointmentStatus) -> str:
    """The state of the appointment (in Russian it agrees with «запись»)."""
    _ = t.gettext
    return {
        AppointmentStatus.BOOKED: _("booked"),
        AppointmentStatus.MOVED: _("moved by the clinic"),
        AppointmentStatus.CANCELLED: _("cancelled"),
        AppointmentStatus.CANCELLED_BY_CLINIC: _("cancelled by the clinic"),
        AppointmentStatus.COMPLETED: _("completed"),
    }[status]


def visit_text(t: Tr, label: str, appointment: Appointment) -> str:
    _ = t.gettext
    lines = [
        _("<b>Appointment</b>"),
        who_line(t, label),
        *doctor_lines(t, appointment.doctor),
        _("When: {when}").format(when=when_text(t, appointment.starts_at)),
        _("Status: {status}").format(status=status_text(t, appointment.status)),
    ]
    if appointment.previous_starts_at is not None:
        lines.append(_("Was: {when}").format(when=when_text(t, appointment.previous_starts_at)))
    return "\n".join(lines)


def visit_line(t: Tr, appointment: Appointment, today: date, *, html: bool = True) -> str:
    """One line per visit; `html=False` for button texts (which are not parsed)."""
    quote = esc if html else str
    return t.gettext("{when} — {specialty}, {doctor}").format(
        when=short_when(t, appointment.starts_at, today),
        specialty=quote(specialty_name(t, appointment.doctor.specialty)),
        doctor=quote(appointment.doctor.full_name),
    )


def past_line(t: Tr, appointment: Appointment, today: date) -> str:
    return t.gettext("{line} ({status})").format(
        line=visit_line(t, appointment, today), status=status_text(t, appointment.status)
    )


def ics_summary(t: Tr, appointment: Appointment) -> str:
    return t.gettext("Doctor's appointment: {specialty}").format(
        specialty=specialty_name(t, appointment.doctor.specialty)
    )


def ics_location(t: Tr, doctor: Doctor) -> str:
    place = f"{doctor.clinic.name}, {doctor.clinic.address}"
    if doctor.cabinet:
        place += ", " + t.gettext("room {cabinet}").format(cabinet=doctor.cabinet)
    return place


def already_booked_text(t: Tr, label: str, visit: Appointment, today: date) -> str:
    return t.gettext(
        "{label} already has an appointment with this specialty: {when}. The clinic allows "
        "one at a time: reschedule or cancel it below."
    ).format(label=esc(label), when=short_when(t, visit.starts_at, today))


def already_booked_warning(t: Tr, label: str, visit: Appointment, today: date) -> str:
    return t.gettext(
        "⚠️ {label} already has an appointment with this specialty: {when}. The clinic "
        "allows one at a time: reschedule that one rather than book another."
    ).format(label=esc(label), when=short_when(t, visit.starts_at, today))


def stale_text(t: Tr) -> str:
    return t.gettext("This button is out of date. Here is a fresh start.")


def referral_gone_text(t: Tr) -> str:
    return t.gettext(
        "This referral has already been used (or closed). Choose another referral or a specialty."
    )


def failure_text(t: Tr, failure: Failure) -> str:
    """What happened when the backend refused a booking, a move or a cancellation; every answer
    says what was (not) done and what to do next. At most 200 characters (a Telegram alert)."""
    _ = t.gettext
    texts: dict[Failure, Callable[[], str]] = {
        Failure.SLOT_TAKEN: lambda: _("That time was just taken. Please choose another one."),
        Failure.REFERRAL_GONE: lambda: referral_gone_text(t),
        Failure.REFERRAL_MISMATCH: lambda: _(
            "This referral is for another specialty. Choose the referral or the specialty again."
        ),
        Failure.REFERRAL_REQUIRED: lambda: _(
            "This specialty is booked with a referral only. Choose one of the referrals or "
            "another specialty."
        ),
        Failure.NOT_ALLOWED: lambda: _(
            "This specialty does not see this patient (by age or sex). Choose another one."
        ),
        Failure.OTHER_SPECIALTY: lambda: _(
            "An appointment can only be moved to a doctor of the same specialty. Choose another "
            "time."
        ),
        Failure.VISIT_GONE: lambda: _(
            "This appointment is no longer in the list: it may have been cancelled. Nothing "
            "was changed."
        ),
        Failure.VISIT_FIXED: lambda: _(
            "This appointment can no longer be changed: it is cancelled or already past."
        ),
        Failure.NO_ACCESS: lambda: _(
            "Your access to this person's appointments has ended. Nothing was booked or changed."
        ),
        Failure.UNAVAILABLE: lambda: _(
            "The appointment service is not answering right now. Please try again in a few "
            "minutes: nothing will be booked twice."
        ),
        Failure.RETRY: lambda: _("This could not be confirmed. Please choose the time again."),
        Failure.ALREADY_BOOKED: lambda: _(
            "There is already an appointment with this specialty. Only one at a time is "
            "allowed: reschedule or cancel that one."
        ),
    }
    return texts[failure]()
