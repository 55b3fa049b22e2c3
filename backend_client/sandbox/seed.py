"""Deterministic seed of the sandbox: patients, families, doctors, slots and records.

Same ``seed`` and same "today" (Moscow date) -> the same data. Everything is generated in
memory first and written with a handful of bulk inserts, so the full seed takes well under
two seconds.

The people come from ``seed_population``, the records from ``history``, the schedule from
``seed_schedule``; this module writes them all.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.sandbox import schema as s
from backend_client.sandbox.catalog import CLINICS, SPECIALTIES, DoctorDef, build_doctors
from backend_client.sandbox.clock import MSK
from backend_client.sandbox.history import HistoryBuilder
from backend_client.sandbox.history_drafts import Staff
from backend_client.sandbox.names import make_name
from backend_client.sandbox.seed_population import Population
from backend_client.sandbox.seed_schedule import (
    SLOT_WINDOW_DAYS,
    seed_appointments,
    slots_for_days,
)

SCHEMA_VERSION = "1"


def build_staff(doctors: list[DoctorDef], seed: int) -> Staff:
    rng = random.Random(f"{seed}/staff")
    by: dict[tuple[str, str], list[str]] = {}
    for d in doctors:
        last, first, middle = d.full_name.split()
        by.setdefault((d.clinic_id, d.specialty_code), []).append(
            f"{last} {first[0]}. {middle[0]}."
        )

    def names(n: int) -> list[str]:
        out = []
        for _ in range(n):
            sex = rng.choice("MFF")
            nm = make_name(rng, sex, rng.randint(1960, 1992))
            out.append(nm.with_initials)
        return out

    return Staff(by, names(3), names(4), names(4), names(4))


async def write_seed(conn: AsyncConnection, seed: int, now: datetime) -> None:
    today = now.astimezone(MSK).date()
    pop = Population(seed, today)
    pop.personas()
    pop.random_families(64)
    doctors = build_doctors(seed)
    staff = build_staff(doctors, seed)

    await conn.execute(insert(s.clinics), [c.__dict__ for c in CLINICS])
    await conn.execute(insert(s.specialties), [sp.__dict__ for sp in SPECIALTIES])
    await conn.execute(insert(s.doctors), [d.__dict__ for d in doctors])
    await conn.execute(
        insert(s.patients),
        [
            {
                "id": p.id,
                "policy": p.policy,
                "birth_date": p.birth,
                "last_name": p.name.last,
                "first_name": p.name.first,
                "middle_name": p.name.middle,
                "sex": p.sex,
                "phone": p.phone,
                "clinic_id": p.clinic_id,
                "persona": p.persona,
            }
            for p in pop.patients
        ],
    )
    await conn.execute(insert(s.family), [{"parent_id": a, "child_id": b} for a, b in pop.family])

    entry_rows: list[dict[str, Any]] = []
    analyte_rows: list[dict[str, Any]] = []
    referral_rows: list[dict[str, Any]] = []
    for p in pop.patients:
        id_rng = random.Random(f"{seed}/ids/{p.id}")

        def new_id(prefix: str, _r: random.Random = id_rng) -> str:
            return f"{prefix}{_r.getrandbits(44):011x}"

        builder = HistoryBuilder(
            random.Random(f"{seed}/history/{p.id}"),
            p,
            today,
            staff,
            new_id,
            years=5 if p.persona else 4,
        )
        drafts, referrals = builder.build()
        for e in drafts:
            entry_rows.append(
                {
                    "id": e.id,
                    "patient_id": p.id,
                    "section": e.section.value,
                    "title": e.title,
                    "date": e.day,
                    "performed_at": e.performed_at,
                    "doctor_name": e.doctor_name,
                    "doctor_specialty": e.doctor_specialty,
                    "clinic_name": e.clinic_name,
                    "has_abnormal": e.has_abnormal,
                    "body": e.body(),
                }
            )
            for _, results in e.panels:
                for m in results:
                    if m.value is None:
                        continue
                    analyte_rows.append(
                        {
                            "patient_id": p.id,
                            "code": m.code,
                            "name": m.name,
                            "unit": m.unit,
                            "ref_low": m.ref_low,
                            "ref_high": m.ref_high,
                            "value": m.value,
                            "flag": m.flag.value if m.flag else None,
                            "date": e.day,
                            "entry_id": e.id,
                        }
                    )
        for ref in referrals:
            referral_rows.append(
                {
                    "id": ref.id,
                    "patient_id": p.id,
                    "specialty_code": ref.specialty_code,
                    "issued_at": ref.issued_at,
                    "valid_until": ref.valid_until,
                    "issued_by": ref.issued_by,
                    "clinic_id": ref.clinic_id,
                    "diagnosis": ref.diagnosis,
                    "entry_id": ref.entry_id,
                    "used_by": None,
                }
            )
    await conn.execute(insert(s.entries), entry_rows)
    await conn.execute(insert(s.analyte_values), analyte_rows)
    if referral_rows:
        await conn.execute(insert(s.referrals), referral_rows)

    slot_rows = slots_for_days(seed, doctors, today, today, SLOT_WINDOW_DAYS)
    appt_rows = seed_appointments(seed, pop, doctors, slot_rows, now)
    await conn.execute(insert(s.slots), slot_rows)
    if appt_rows:
        await conn.execute(insert(s.appointments), appt_rows)
    await conn.execute(
        insert(s.meta),
        [
            {"key": "schema_version", "value": SCHEMA_VERSION},
            {"key": "seed", "value": str(seed)},
            {"key": "seeded_on", "value": today.isoformat()},
            {
                "key": "slots_through",
                "value": (today + timedelta(days=SLOT_WINDOW_DAYS - 1)).isoformat(),
            },
            # Key for the HMAC of SMS codes: random, never derived from the public seed.
            {"key": "code_secret", "value": secrets.token_hex(32)},
        ],
    )
