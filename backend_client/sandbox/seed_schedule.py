"""The seeded schedule: slot rows for a window of days and the personas' appointments.

Also used by booking to extend the slot window as days pass (same seed -> same new days).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from backend_client.sandbox.catalog import DoctorDef, day_slots
from backend_client.sandbox.clock import MSK, age_on, at_msk
from backend_client.sandbox.seed_population import Population

SLOT_WINDOW_DAYS = 14


def slots_for_days(
    seed: int, doctors: list[DoctorDef], today: date, first: date, count: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(count):
        day = first + timedelta(days=i)
        for d in doctors:
            for sl in day_slots(seed, d, day, today):
                rows.append(
                    {
                        "id": sl.id,
                        "doctor_id": d.id,
                        "clinic_id": d.clinic_id,
                        "specialty_code": d.specialty_code,
                        "starts_at": sl.starts_at,
                        "duration_min": sl.duration_min,
                        "state": "taken" if sl.taken else "free",
                        "appointment_id": None,
                    }
                )
    return rows


def seed_appointments(
    seed: int,
    pop: Population,
    doctors: list[DoctorDef],
    slot_rows: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Upcoming visits for the personas (taking seeded free slots) and some past visits."""
    rng = random.Random(f"{seed}/appointments")
    rows: list[dict[str, Any]] = []
    free_by_doctor: dict[str, list[dict[str, Any]]] = {}
    for row in slot_rows:
        if row["state"] == "free" and row["starts_at"] > now + timedelta(days=1):
            free_by_doctor.setdefault(row["doctor_id"], []).append(row)
    n = 0
    for p in pop.patients:
        if p.persona is None and rng.random() < 0.6:
            continue
        spec = "pediatrician" if age_on(p.birth, pop.today) < 18 else "therapist"
        group = {"c1": ("c1", "c2")}.get(p.clinic_id, (p.clinic_id,))
        mine = [d for d in doctors if d.specialty_code == spec and d.clinic_id in group]
        if not mine:
            continue
        doctor = rng.choice(mine)
        # A completed visit in the past (its slot is gone from the schedule).
        for back in (rng.randint(40, 120), rng.randint(200, 400)):
            day = pop.today - timedelta(days=back)
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            starts = at_msk(day, rng.randint(9, 18), rng.choice((0, 15, 30, 45)))
            n += 1
            rows.append(
                _appt(
                    f"a{n:04d}{rng.getrandbits(24):06x}", p.id, doctor.id, starts, "completed", now
                )
            )
        if p.persona in ("elderly_mother", "elderly_father", "single", "child", "mother"):
            free = free_by_doctor.get(doctor.id) or []
            if free:
                slot = free.pop(rng.randrange(len(free)))
                n += 1
                appt_id = f"a{n:04d}{rng.getrandbits(24):06x}"
                slot["state"] = "taken"
                slot["appointment_id"] = appt_id
                row = _appt(appt_id, p.id, doctor.id, slot["starts_at"], "booked", now)
                row["slot_id"] = slot["id"]
                row["duration_min"] = slot["duration_min"]
                rows.append(row)
    return rows


def _appt(
    appt_id: str, patient_id: str, doctor_id: str, starts: datetime, status: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": appt_id,
        "patient_id": patient_id,
        "doctor_id": doctor_id,
        "slot_id": f"{doctor_id}-{starts.astimezone(MSK):%y%m%d%H%M}",
        "starts_at": starts,
        "duration_min": 15,
        "status": status,
        "referral_id": None,
        "previous_starts_at": None,
        "created_at": min(now, starts - timedelta(days=7)),
    }
