"""Contract: specialties, referrals, doctors, slots, booking, rescheduling, cancelling."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from backend_client.errors import AccessDenied, InvalidRequest, NotFound, SlotTaken
from backend_client.models import AppointmentStatus, Grant, Slot
from backend_client.sandbox import MSK
from tests.backend.conftest import Harness, requester

ME = requester("me", "Анна С.")


def _window(h: Harness) -> tuple[date, date]:
    today = h.clock().astimezone(MSK).date()
    return today, today + timedelta(days=13)


async def _mother(h: Harness) -> Grant:
    return await h.link_relative("elderly_mother", ME)


async def _therapist_slots(h: Harness, g: Grant) -> list[Slot]:
    doctors = await h.backend.list_doctors(g.grant_id, ME.id, specialty_code="therapist")
    lo, hi = _window(h)
    slots: list[Slot] = []
    for d in doctors:
        slots += await h.backend.free_slots(g.grant_id, ME.id, d.doctor_id, lo, hi)
    return slots


async def test_specialties_without_referral_fit_the_patient(harness: Harness) -> None:
    mother = await _mother(harness)
    codes = {s.code for s in await harness.backend.list_specialties(mother.grant_id, ME.id)}
    assert {"therapist", "ophthalmologist", "surgeon", "gynecologist", "dentist"} <= codes
    assert "urologist" not in codes and "pediatrician" not in codes
    assert "cardiologist" not in codes  # by referral only
    harness.clock.advance(seconds=61)
    father = await harness.link_relative("elderly_father", ME)
    codes = {s.code for s in await harness.backend.list_specialties(father.grant_id, ME.id)}
    assert "urologist" in codes and "gynecologist" not in codes
    harness.clock.advance(seconds=61)
    own = await harness.link_self("mother", ME)
    child = await harness.persona("child")
    kid = await harness.backend.link_child(own.grant_id, ME, child.policy, child.birth_date)
    codes = {s.code for s in await harness.backend.list_specialties(kid.grant_id, ME.id)}
    assert "pediatrician" in codes and "therapist" not in codes


async def test_referrals_open_referral_only_doctors(harness: Harness) -> None:
    g = await _mother(harness)
    referrals = await harness.backend.list_referrals(g.grant_id, ME.id)
    by_code = {r.specialty.code: r for r in referrals}
    assert {"endocrinologist", "cardiologist"} <= set(by_code)
    today = harness.clock().astimezone(MSK).date()
    assert all(r.issued_at <= today <= r.valid_until for r in referrals)
    with pytest.raises(AccessDenied) as err:
        await harness.backend.list_doctors(g.grant_id, ME.id, specialty_code="cardiologist")
    assert err.value.reason == "referral_required"
    doctors = await harness.backend.list_doctors(
        g.grant_id, ME.id, referral_id=by_code["cardiologist"].referral_id
    )
    assert doctors and all(d.specialty.code == "cardiologist" for d in doctors)
    with pytest.raises(InvalidRequest):
        await harness.backend.list_doctors(g.grant_id, ME.id)
    with pytest.raises(NotFound):
        await harness.backend.list_doctors(g.grant_id, ME.id, referral_id="r-unknown")


async def test_free_slots_are_future_working_hours_in_order(harness: Harness) -> None:
    g = await _mother(harness)
    slots = await _therapist_slots(harness, g)
    assert len(slots) > 20
    now = harness.clock()
    lo, hi = _window(harness)
    for s in slots:
        local = s.starts_at.astimezone(MSK)
        assert s.starts_at > now
        assert lo <= local.date() <= hi
        assert 8 <= local.hour < 20
        assert local.weekday() != 6  # closed on Sundays
        assert s.duration_min in (15, 20)
    per_doctor = [s for s in slots if s.doctor_id == slots[0].doctor_id]
    assert per_doctor == sorted(per_doctor, key=lambda s: s.starts_at)


async def test_search_free_slots_without_a_grant(harness: Harness) -> None:
    lo, hi = _window(harness)
    by_specialty = await harness.backend.search_free_slots(
        specialty_code="therapist", clinic_id="c1", date_from=lo, date_to=hi
    )
    assert by_specialty and all(s.clinic_id == "c1" for s in by_specialty)
    doctor = by_specialty[0].doctor_id
    by_doctor = await harness.backend.search_free_slots(doctor_id=doctor, date_from=lo, date_to=hi)
    assert by_doctor and all(s.doctor_id == doctor for s in by_doctor)
    # The diagnostic centre's endocrinologist is fully booked (the slot-watch demo).
    assert (
        await harness.backend.search_free_slots(
            specialty_code="endocrinologist", clinic_id="c5", date_from=lo, date_to=hi
        )
        == []
    )
    with pytest.raises(InvalidRequest):
        await harness.backend.search_free_slots(date_from=lo, date_to=hi)
    with pytest.raises(InvalidRequest):
        await harness.backend.search_free_slots(doctor_id=doctor, date_from=hi, date_to=lo)
    with pytest.raises(NotFound):
        await harness.backend.search_free_slots(doctor_id="d-unknown", date_from=lo, date_to=hi)


async def test_book_is_idempotent(harness: Harness) -> None:
    g = await _mother(harness)
    slot = (await _therapist_slots(harness, g))[0]
    first = await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "book-key-0001")
    assert first.status is AppointmentStatus.BOOKED
    assert first.starts_at == slot.starts_at
    assert first.patient_id == g.patient.patient_id
    again = await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "book-key-0001")
    assert again.appointment_id == first.appointment_id
    upcoming = await harness.backend.list_appointments(g.grant_id, ME.id, upcoming=True)
    assert [a.appointment_id for a in upcoming].count(first.appointment_id) == 1
    with pytest.raises(SlotTaken):
        await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "book-key-0002")
    lo, hi = _window(harness)
    free = await harness.backend.free_slots(g.grant_id, ME.id, slot.doctor_id, lo, hi)
    assert slot.slot_id not in {s.slot_id for s in free}


async def test_concurrent_bookings_of_one_slot(harness: Harness) -> None:
    mother = await _mother(harness)
    other = requester("other", "Дмитрий С.")
    harness.clock.advance(seconds=61)
    anna_self = await harness.link_self("mother", other)
    slot = (await _therapist_slots(harness, mother))[0]
    results = await asyncio.gather(
        harness.backend.book(mother.grant_id, ME.id, slot.slot_id, "race-key-aaaa"),
        harness.backend.book(anna_self.grant_id, other.id, slot.slot_id, "race-key-bbbb"),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1
    assert len(lost) == 1 and isinstance(lost[0], SlotTaken)


async def test_slot_in_the_past_cannot_be_booked(harness: Harness) -> None:
    g = await _mother(harness)
    slot = (await _therapist_slots(harness, g))[0]
    harness.clock.set(slot.starts_at + timedelta(minutes=1))
    with pytest.raises((SlotTaken, InvalidRequest)):
        await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "late-key-0001")


async def test_unknown_slot_and_bad_key(harness: Harness) -> None:
    g = await _mother(harness)
    with pytest.raises(NotFound):
        await harness.backend.book(g.grant_id, ME.id, "d01-0001010000", "some-key-0001")
    slot = (await _therapist_slots(harness, g))[0]
    with pytest.raises(InvalidRequest):
        await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "")


async def test_referral_specialty_needs_the_referral(harness: Harness) -> None:
    g = await _mother(harness)
    ref = next(
        r
        for r in await harness.backend.list_referrals(g.grant_id, ME.id)
        if r.specialty.code == "cardiologist"
    )
    doctors = await harness.backend.list_doctors(g.grant_id, ME.id, referral_id=ref.referral_id)
    lo, hi = _window(harness)
    candidates: list[Slot] = []
    for d in doctors:
        candidates += await harness.backend.free_slots(g.grant_id, ME.id, d.doctor_id, lo, hi)
    slot = candidates[0]
    with pytest.raises(AccessDenied):
        await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "cardio-key-001")
    appt = await harness.backend.book(
        g.grant_id, ME.id, slot.slot_id, "cardio-key-002", referral_id=ref.referral_id
    )
    assert appt.referral_id == ref.referral_id
    left = {r.referral_id for r in await harness.backend.list_referrals(g.grant_id, ME.id)}
    assert ref.referral_id not in left  # used
    await harness.backend.cancel_appointment(g.grant_id, ME.id, appt.appointment_id)
    left = {r.referral_id for r in await harness.backend.list_referrals(g.grant_id, ME.id)}
    assert ref.referral_id in left  # usable again


async def test_reschedule_is_atomic(harness: Harness) -> None:
    g = await _mother(harness)
    slots = await _therapist_slots(harness, g)
    same_doctor = [s for s in slots if s.doctor_id == slots[0].doctor_id]
    appt = await harness.backend.book(g.grant_id, ME.id, same_doctor[0].slot_id, "resched-0001")
    # Someone else takes the slot we want: the move fails and nothing changes.
    other = requester("other", "Дмитрий С.")
    harness.clock.advance(seconds=61)
    rival = await harness.link_self("mother", other)
    await harness.backend.book(rival.grant_id, other.id, same_doctor[1].slot_id, "rival-key-001")
    with pytest.raises(SlotTaken):
        await harness.backend.reschedule(
            g.grant_id, ME.id, appt.appointment_id, same_doctor[1].slot_id, "resched-0002"
        )
    unchanged = await harness.backend.get_appointment(g.grant_id, ME.id, appt.appointment_id)
    assert unchanged.slot_id == same_doctor[0].slot_id
    moved = await harness.backend.reschedule(
        g.grant_id, ME.id, appt.appointment_id, same_doctor[2].slot_id, "resched-0003"
    )
    assert moved.appointment_id == appt.appointment_id
    assert moved.starts_at == same_doctor[2].starts_at
    assert moved.previous_starts_at == same_doctor[0].starts_at
    again = await harness.backend.reschedule(
        g.grant_id, ME.id, appt.appointment_id, same_doctor[2].slot_id, "resched-0003"
    )
    assert again == moved
    lo, hi = _window(harness)
    free = {
        s.slot_id
        for s in await harness.backend.free_slots(g.grant_id, ME.id, slots[0].doctor_id, lo, hi)
    }
    assert same_doctor[0].slot_id in free  # the old slot was released
    assert same_doctor[2].slot_id not in free


async def test_reschedule_to_another_specialty_is_refused(harness: Harness) -> None:
    g = await _mother(harness)
    slot = (await _therapist_slots(harness, g))[0]
    appt = await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "resched-spec-1")
    eye = await harness.backend.list_doctors(g.grant_id, ME.id, specialty_code="ophthalmologist")
    lo, hi = _window(harness)
    eye_slot = (await harness.backend.free_slots(g.grant_id, ME.id, eye[0].doctor_id, lo, hi))[0]
    with pytest.raises(InvalidRequest):
        await harness.backend.reschedule(
            g.grant_id, ME.id, appt.appointment_id, eye_slot.slot_id, "resched-spec-2"
        )


async def test_cancel_frees_the_slot(harness: Harness) -> None:
    g = await _mother(harness)
    slot = (await _therapist_slots(harness, g))[0]
    appt = await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "cancel-key-001")
    cancelled = await harness.backend.cancel_appointment(g.grant_id, ME.id, appt.appointment_id)
    assert cancelled.status is AppointmentStatus.CANCELLED
    again = await harness.backend.cancel_appointment(g.grant_id, ME.id, appt.appointment_id)
    assert again.status is AppointmentStatus.CANCELLED
    lo, hi = _window(harness)
    free = await harness.backend.free_slots(g.grant_id, ME.id, slot.doctor_id, lo, hi)
    assert slot.slot_id in {s.slot_id for s in free}
    upcoming = await harness.backend.list_appointments(g.grant_id, ME.id, upcoming=True)
    assert appt.appointment_id not in {a.appointment_id for a in upcoming}
    past = await harness.backend.list_appointments(g.grant_id, ME.id, upcoming=False)
    assert appt.appointment_id in {a.appointment_id for a in past}


async def test_appointment_lists_and_lookups(harness: Harness) -> None:
    g = await _mother(harness)
    everything = await harness.backend.list_appointments(g.grant_id, ME.id)
    assert any(a.status is AppointmentStatus.COMPLETED for a in everything)  # seeded history
    upcoming = await harness.backend.list_appointments(g.grant_id, ME.id, upcoming=True)
    assert upcoming and upcoming == sorted(upcoming, key=lambda a: a.starts_at)
    one = await harness.backend.get_appointment(g.grant_id, ME.id, upcoming[0].appointment_id)
    assert one == upcoming[0]
    with pytest.raises(NotFound):
        await harness.backend.get_appointment(g.grant_id, ME.id, "a-unknown")
    harness.clock.advance(seconds=61)
    father = await harness.link_relative("elderly_father", ME)
    with pytest.raises(NotFound):  # another patient's visit through this grant
        await harness.backend.get_appointment(father.grant_id, ME.id, upcoming[0].appointment_id)
    with pytest.raises(NotFound):
        await harness.backend.cancel_appointment(father.grant_id, ME.id, upcoming[0].appointment_id)
