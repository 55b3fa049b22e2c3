"""Contract (issue 14, 4): as EMIAS, one active future visit per specialty. A second booking
of the same specialty is `AlreadyBooked` naming the visit to reschedule, books nothing and
keeps the slot free; another specialty, or the same one after cancelling, books. (The sandbox
applies the rule when opened with ``one_visit_per_specialty=True``, as the bot does.)"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend_client.errors import AlreadyBooked, error_from_payload
from backend_client.models import Grant, Slot
from backend_client.sandbox import MSK
from tests.backend.conftest import Harness, requester

ME = requester("me", "Анна С.")


def _window(h: Harness) -> tuple[date, date]:
    today = h.clock().astimezone(MSK).date()
    return today, today + timedelta(days=13)


async def _slots(h: Harness, g: Grant, code: str) -> list[Slot]:
    lo, hi = _window(h)
    slots: list[Slot] = []
    for d in await h.backend.list_doctors(g.grant_id, ME.id, specialty_code=code):
        slots += await h.backend.free_slots(g.grant_id, ME.id, d.doctor_id, lo, hi)
    return slots


async def _clear(h: Harness, g: Grant, code: str) -> None:
    """Cancel the patient's own active visits of `code` (the seed may have one)."""
    for visit in await h.backend.list_appointments(g.grant_id, ME.id):
        if visit.is_active and visit.doctor.specialty.code == code:
            await h.backend.cancel_appointment(g.grant_id, ME.id, visit.appointment_id)


async def test_a_second_visit_of_one_specialty_is_refused_naming_the_first(
    harness: Harness,
) -> None:
    harness.sandbox.one_visit_per_specialty = True  # as the bot's own sandbox runs it
    g = await harness.link_relative("elderly_mother", ME)
    await _clear(harness, g, "dentist")
    first_slot, second_slot, *_ = await _slots(harness, g, "dentist")
    first = await harness.backend.book(g.grant_id, ME.id, first_slot.slot_id, "one-spec-key-1")
    with pytest.raises(AlreadyBooked) as err:
        await harness.backend.book(g.grant_id, ME.id, second_slot.slot_id, "one-spec-key-2")
    assert err.value.appointment_id == first.appointment_id
    assert err.value.code == "already_booked"
    still_free = {s.slot_id for s in await _slots(harness, g, "dentist")}
    assert second_slot.slot_id in still_free  # nothing was taken
    # Another specialty books; so does the same one once the first visit is cancelled.
    other = await _slots(harness, g, "ophthalmologist")
    await _clear(harness, g, "ophthalmologist")
    await harness.backend.book(g.grant_id, ME.id, other[0].slot_id, "one-spec-key-3")
    await harness.backend.cancel_appointment(g.grant_id, ME.id, first.appointment_id)
    again = await harness.backend.book(g.grant_id, ME.id, second_slot.slot_id, "one-spec-key-4")
    assert again.is_active


def test_the_error_travels_with_its_visit() -> None:
    rebuilt = error_from_payload(AlreadyBooked("a123").to_payload())
    assert isinstance(rebuilt, AlreadyBooked) and rebuilt.appointment_id == "a123"


async def test_the_patients_district_doctor_is_marked(harness: Harness) -> None:
    """Issue 14 (9): the attached (district) therapist is known, the same on every call."""
    g = await harness.link_relative("elderly_mother", ME)
    doctors = await harness.backend.list_doctors(g.grant_id, ME.id, specialty_code="therapist")
    district = [d for d in doctors if d.district]
    assert len(district) == 1 and len(doctors) > 1
    again = await harness.backend.list_doctors(g.grant_id, ME.id, specialty_code="therapist")
    assert [d.doctor_id for d in again if d.district] == [district[0].doctor_id]
    eye = await harness.backend.list_doctors(g.grant_id, ME.id, specialty_code="ophthalmologist")
    assert not any(d.district for d in eye)
