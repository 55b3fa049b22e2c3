"""Contract: the event feed (results ready, clinic cancels and moves, freed slots)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend_client.errors import InvalidRequest
from backend_client.models import AppointmentStatus, EventKind, Section
from backend_client.sandbox import MSK
from tests.backend.conftest import Harness, requester

ME = requester("me", "Анна С.")


async def _all_events(h: Harness, after: str | None) -> tuple[list, str | None]:  # type: ignore[type-arg]
    batch = await h.backend.read_events(after)
    return batch.events, batch.cursor


async def test_result_ready_from_a_cursor(harness: Harness) -> None:
    g = await harness.link_relative("elderly_mother", ME)
    _, cursor = await _all_events(harness, None)
    mother = await harness.persona("elderly_mother")
    entry_id = await harness.sandbox.publish_result(policy=mother.policy, panel="hba1c")
    events, cursor2 = await _all_events(harness, cursor)
    assert [e.kind for e in events] == [EventKind.RESULT_READY]
    ev = events[0]
    assert ev.entry_id == entry_id and ev.section is Section.LABS
    assert ev.patient_id == g.patient.patient_id
    assert cursor2 == ev.event_id
    page = await harness.backend.list_entries(g.grant_id, ME.id, Section.LABS, limit=1)
    assert page.items[0].entry_id == entry_id
    assert (await _all_events(harness, cursor2))[0] == []  # nothing new


async def test_clinic_cancel_and_move(harness: Harness) -> None:
    g = await harness.link_relative("elderly_mother", ME)
    upcoming = await harness.backend.list_appointments(g.grant_id, ME.id, upcoming=True)
    doctors = await harness.backend.list_doctors(g.grant_id, ME.id, specialty_code="therapist")
    today = harness.clock().astimezone(MSK).date()
    slot = (
        await harness.backend.free_slots(
            g.grant_id, ME.id, doctors[0].doctor_id, today, today + timedelta(days=13)
        )
    )[0]
    booked = await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "clinic-key-01")
    _, cursor = await _all_events(harness, None)
    moved = await harness.sandbox.clinic_move(booked.appointment_id)
    cancelled = await harness.sandbox.clinic_cancel(upcoming[0].appointment_id)
    events, _ = await _all_events(harness, cursor)
    assert [(e.kind, e.appointment_id) for e in events] == [
        (EventKind.APPOINTMENT_MOVED, booked.appointment_id),
        (EventKind.APPOINTMENT_CANCELLED, upcoming[0].appointment_id),
    ]
    now_moved = await harness.backend.get_appointment(g.grant_id, ME.id, booked.appointment_id)
    assert now_moved.status is AppointmentStatus.MOVED
    assert now_moved.previous_starts_at == slot.starts_at
    assert now_moved.starts_at == moved.starts_at != slot.starts_at
    assert cancelled.status is AppointmentStatus.CANCELLED_BY_CLINIC
    still = await harness.backend.list_appointments(g.grant_id, ME.id, upcoming=True)
    assert booked.appointment_id in {a.appointment_id for a in still}  # moved is still on


async def test_slot_freed_by_cancel_and_by_outsiders(harness: Harness) -> None:
    g = await harness.link_relative("elderly_mother", ME)
    doctors = await harness.backend.list_doctors(g.grant_id, ME.id, specialty_code="therapist")
    today = harness.clock().astimezone(MSK).date()
    slot = (
        await harness.backend.free_slots(
            g.grant_id, ME.id, doctors[0].doctor_id, today, today + timedelta(days=13)
        )
    )[0]
    appt = await harness.backend.book(g.grant_id, ME.id, slot.slot_id, "free-key-0001")
    _, cursor = await _all_events(harness, None)
    await harness.backend.cancel_appointment(g.grant_id, ME.id, appt.appointment_id)
    taken = await harness.sandbox.taken_slots(doctors[0].doctor_id)
    await harness.sandbox.free_slot(taken[0])
    events, _ = await _all_events(harness, cursor)
    assert [e.kind for e in events] == [EventKind.SLOT_FREED, EventKind.SLOT_FREED]
    assert events[0].slot is not None and events[0].slot.slot_id == slot.slot_id
    assert events[1].slot is not None and events[1].slot.slot_id == taken[0]
    assert events[1].doctor_id == doctors[0].doctor_id
    assert all(e.patient_id is None for e in events)  # availability is not personal


async def test_feed_pages_in_order(harness: Harness) -> None:
    mother = await harness.persona("elderly_mother")
    for _ in range(5):
        await harness.sandbox.publish_result(patient_id=mother.patient_id)
    first = await harness.backend.read_events(None, limit=2)
    second = await harness.backend.read_events(first.cursor, limit=2)
    third = await harness.backend.read_events(second.cursor, limit=2)
    ids = [int(e.event_id) for b in (first, second, third) for e in b.events]
    assert ids == sorted(ids) and len(ids) == 5 and len(set(ids)) == 5
    with pytest.raises(InvalidRequest):
        await harness.backend.read_events("not-a-cursor")
