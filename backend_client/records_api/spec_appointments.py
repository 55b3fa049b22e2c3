"""The Records API's appointment endpoints: what can be booked, free slots, booking, visits.

See ``spec.py`` for how an ``Endpoint`` and its ``Args`` become a request.
"""

from __future__ import annotations

from datetime import date

from pydantic import TypeAdapter

from backend_client.models import Appointment, Doctor, Referral, Slot, Specialty
from backend_client.records_api.spec import ACCESS_ERRORS, Args, Endpoint, GrantArgs


class ListDoctorsArgs(GrantArgs):
    specialty_code: str | None = None
    referral_id: str | None = None


class FreeSlotsArgs(GrantArgs):
    doctor_id: str
    date_from: date
    date_to: date


class SearchSlotsArgs(Args):
    doctor_id: str | None = None
    specialty_code: str | None = None
    clinic_id: str | None = None
    date_from: date
    date_to: date


class BookArgs(GrantArgs):
    slot_id: str
    idempotency_key: str
    referral_id: str | None = None


class RescheduleArgs(GrantArgs):
    appointment_id: str
    new_slot_id: str
    idempotency_key: str


class AppointmentArgs(GrantArgs):
    appointment_id: str


class ListAppointmentsArgs(GrantArgs):
    upcoming: bool | None = None


# --- appointments --------------------------------------------------------------------------------

LIST_SPECIALTIES = Endpoint(
    "list_specialties",
    "GET",
    "/v1/grants/{grant_id}/specialties",
    "Specialties the patient may book without a referral",
    GrantArgs,
    TypeAdapter(list[Specialty]),
    lambda b, a: b.list_specialties(a.grant_id, a.requester_id),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
LIST_REFERRALS = Endpoint(
    "list_referrals",
    "GET",
    "/v1/grants/{grant_id}/referrals",
    "Active referrals",
    GrantArgs,
    TypeAdapter(list[Referral]),
    lambda b, a: b.list_referrals(a.grant_id, a.requester_id),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
LIST_DOCTORS = Endpoint(
    "list_doctors",
    "GET",
    "/v1/grants/{grant_id}/doctors",
    "Doctors the patient may book (by specialty_code or referral_id)",
    ListDoctorsArgs,
    TypeAdapter(list[Doctor]),
    lambda b, a: b.list_doctors(
        a.grant_id, a.requester_id, specialty_code=a.specialty_code, referral_id=a.referral_id
    ),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
FREE_SLOTS = Endpoint(
    "free_slots",
    "GET",
    "/v1/grants/{grant_id}/doctors/{doctor_id}/slots",
    "Free future slots of one doctor between two Moscow dates",
    FreeSlotsArgs,
    TypeAdapter(list[Slot]),
    lambda b, a: b.free_slots(a.grant_id, a.requester_id, a.doctor_id, a.date_from, a.date_to),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
SEARCH_FREE_SLOTS = Endpoint(
    "search_free_slots",
    "GET",
    "/v1/slots",
    "Free future slots without a grant (for the slot-watch poller)",
    SearchSlotsArgs,
    TypeAdapter(list[Slot]),
    lambda b, a: b.search_free_slots(
        doctor_id=a.doctor_id,
        specialty_code=a.specialty_code,
        clinic_id=a.clinic_id,
        date_from=a.date_from,
        date_to=a.date_to,
    ),
    errors=("not_found",),
    retry_safe=True,
)
BOOK = Endpoint(
    "book",
    "POST",
    "/v1/grants/{grant_id}/appointments",
    "Book a free slot (idempotent per Idempotency-Key and requester)",
    BookArgs,
    TypeAdapter(Appointment),
    lambda b, a: b.book(a.grant_id, a.requester_id, a.slot_id, a.idempotency_key, a.referral_id),
    errors=(*ACCESS_ERRORS, "slot_taken", "already_booked"),
    retry_safe=True,  # only because the Idempotency-Key makes a repeat return the first result
)
RESCHEDULE = Endpoint(
    "reschedule",
    "POST",
    "/v1/grants/{grant_id}/appointments/{appointment_id}/reschedule",
    "Move an active visit to another slot (idempotent per Idempotency-Key and requester)",
    RescheduleArgs,
    TypeAdapter(Appointment),
    lambda b, a: b.reschedule(
        a.grant_id, a.requester_id, a.appointment_id, a.new_slot_id, a.idempotency_key
    ),
    errors=(*ACCESS_ERRORS, "slot_taken"),
    retry_safe=True,  # as for book
)
CANCEL_APPOINTMENT = Endpoint(
    "cancel_appointment",
    "POST",
    "/v1/grants/{grant_id}/appointments/{appointment_id}/cancel",
    "Cancel an active future visit",
    AppointmentArgs,
    TypeAdapter(Appointment),
    lambda b, a: b.cancel_appointment(a.grant_id, a.requester_id, a.appointment_id),
    errors=ACCESS_ERRORS,
)
LIST_APPOINTMENTS = Endpoint(
    "list_appointments",
    "GET",
    "/v1/grants/{grant_id}/appointments",
    "The patient's visits (upcoming=true/false filters)",
    ListAppointmentsArgs,
    TypeAdapter(list[Appointment]),
    lambda b, a: b.list_appointments(a.grant_id, a.requester_id, upcoming=a.upcoming),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
GET_APPOINTMENT = Endpoint(
    "get_appointment",
    "GET",
    "/v1/grants/{grant_id}/appointments/{appointment_id}",
    "One visit of the grant's patient",
    AppointmentArgs,
    TypeAdapter(Appointment),
    lambda b, a: b.get_appointment(a.grant_id, a.requester_id, a.appointment_id),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
