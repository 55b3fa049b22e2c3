"""Static reference data of the sandbox city: clinics, specialties, doctors and their shifts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from backend_client.sandbox.clock import MSK, at_msk
from backend_client.sandbox.names import make_name


@dataclass(frozen=True)
class ClinicDef:
    id: str
    name: str
    address: str
    for_children: bool = False


@dataclass(frozen=True)
class SpecialtyDef:
    code: str
    name: str
    needs_referral: bool
    audience: str  # adult / child / male / female / any
    slot_min: int


# Fictional institutions at real-sounding Moscow addresses (a sandbox, not a directory).
CLINICS: list[ClinicDef] = [
    ClinicDef("c1", "ГБУЗ «Городская поликлиника № 11 ДЗМ»", "Москва, ул. Бутлерова, д. 7"),
    ClinicDef(
        "c2",
        "ГБУЗ «Городская поликлиника № 11 ДЗМ», филиал № 2",
        "Москва, Ленинский пр-т, д. 85, корп. 1",
    ),
    ClinicDef("c3", "ГБУЗ «Городская поликлиника № 46 ДЗМ»", "Москва, ул. Первомайская, д. 12"),
    ClinicDef(
        "c4",
        "ГБУЗ «Детская городская поликлиника № 32 ДЗМ»",
        "Москва, ул. Профсоюзная, д. 45, стр. 2",
        for_children=True,
    ),
    ClinicDef(
        "c5",
        "ГБУЗ «Консультативно-диагностический центр № 6 ДЗМ»",
        "Москва, ул. Вавилова, д. 54",
    ),
]
CLINIC_BY_ID = {c.id: c for c in CLINICS}

# Clinics a patient attached to the key may use without a referral (a main building + branch).
ATTACHMENT_GROUPS: dict[str, list[str]] = {"c1": ["c1", "c2"], "c3": ["c3"], "c4": ["c4"]}

SPECIALTIES: list[SpecialtyDef] = [
    SpecialtyDef("therapist", "Терапевт", False, "adult", 15),
    SpecialtyDef("gp", "Врач общей практики", False, "adult", 15),
    SpecialtyDef("pediatrician", "Педиатр", False, "child", 15),
    SpecialtyDef("ophthalmologist", "Офтальмолог", False, "any", 20),
    SpecialtyDef("surgeon", "Хирург", False, "any", 15),
    SpecialtyDef("ent", "Оториноларинголог", False, "any", 15),
    SpecialtyDef("urologist", "Уролог", False, "male", 15),
    SpecialtyDef("gynecologist", "Акушер-гинеколог", False, "female", 20),
    SpecialtyDef("dentist", "Стоматолог", False, "any", 20),
    SpecialtyDef("cardiologist", "Кардиолог", True, "adult", 20),
    SpecialtyDef("endocrinologist", "Эндокринолог", True, "any", 20),
    SpecialtyDef("neurologist", "Невролог", True, "any", 20),
    SpecialtyDef("gastroenterologist", "Гастроэнтеролог", True, "adult", 20),
]
SPECIALTY_BY_CODE = {s.code: s for s in SPECIALTIES}

# (clinic, specialty, how many doctors)
STAFFING: list[tuple[str, str, int]] = [
    ("c1", "therapist", 3),
    ("c1", "gp", 1),
    ("c1", "ophthalmologist", 1),
    ("c1", "surgeon", 1),
    ("c1", "ent", 1),
    ("c1", "urologist", 1),
    ("c1", "gynecologist", 1),
    ("c1", "dentist", 1),
    ("c1", "cardiologist", 1),
    ("c1", "neurologist", 1),
    ("c2", "therapist", 2),
    ("c2", "gp", 1),
    ("c2", "ophthalmologist", 1),
    ("c2", "gynecologist", 1),
    ("c2", "dentist", 1),
    ("c3", "therapist", 3),
    ("c3", "ophthalmologist", 1),
    ("c3", "surgeon", 1),
    ("c3", "ent", 1),
    ("c3", "urologist", 1),
    ("c3", "gynecologist", 1),
    ("c3", "dentist", 1),
    ("c3", "endocrinologist", 1),
    ("c3", "gastroenterologist", 1),
    ("c4", "pediatrician", 3),
    ("c4", "ophthalmologist", 1),
    ("c4", "surgeon", 1),
    ("c4", "ent", 1),
    ("c4", "dentist", 1),
    ("c4", "neurologist", 1),
    ("c4", "endocrinologist", 1),
    ("c5", "cardiologist", 2),
    ("c5", "endocrinologist", 1),
    ("c5", "neurologist", 1),
    ("c5", "gastroenterologist", 1),
]

# Shift patterns. A/B alternate mornings and evenings by day parity (typical for Moscow
# polyclinics), M/E are fixed; "+S" adds a Saturday duty 09:00-15:00. Sundays are closed.
SHIFTS = ["A", "B", "A+S", "B", "M", "E", "A", "B+S"]
MORNING = (8, 14)
EVENING = (14, 20)
SATURDAY = (9, 15)

# The diagnostic centre's endocrinologist is fully booked: the slot-watch demo.
FULLY_BOOKED = ("c5", "endocrinologist")


@dataclass(frozen=True)
class DoctorDef:
    id: str
    full_name: str
    specialty_code: str
    clinic_id: str
    cabinet: str
    shift: str


def build_doctors(seed: int) -> list[DoctorDef]:
    rng = random.Random(f"{seed}/doctors")
    result: list[DoctorDef] = []
    for clinic_id, code, count in STAFFING:
        for _ in range(count):
            n = len(result) + 1
            sex = "F" if rng.random() < 0.7 else "M"  # most Russian outpatient doctors are women
            name = make_name(rng, sex, rng.randint(1960, 1994))
            result.append(
                DoctorDef(
                    id=f"d{n:02d}",
                    full_name=name.full,
                    specialty_code=code,
                    clinic_id=clinic_id,
                    cabinet=str(rng.randint(1, 4) * 100 + rng.randint(1, 40)),
                    shift=rng.choice(SHIFTS),
                )
            )
    return result


def working_hours(shift: str, day: date) -> tuple[int, int] | None:
    weekday = day.weekday()
    if weekday == 6:
        return None
    if weekday == 5:
        return SATURDAY if shift.endswith("+S") else None
    base = shift[0]
    if base == "M":
        return MORNING
    if base == "E":
        return EVENING
    odd = day.day % 2 == 1
    return MORNING if (odd == (base == "A")) else EVENING


@dataclass(frozen=True)
class SlotDef:
    id: str
    starts_at: datetime
    duration_min: int
    taken: bool


def day_slots(seed: int, doctor: DoctorDef, day: date, today: date) -> list[SlotDef]:
    """The doctor's slots on ``day``; which are already taken depends on how near the day is.

    Seeded per (seed, doctor, day), so extending the window later yields the same slots.
    """
    hours = working_hours(doctor.shift, day)
    if hours is None:
        return []
    spec = SPECIALTY_BY_CODE[doctor.specialty_code]
    rng = random.Random(f"{seed}/slots/{doctor.id}/{day.isoformat()}")
    ahead = (day - today).days
    busy = 0.85 if ahead <= 2 else 0.6 if ahead <= 6 else 0.3
    if (doctor.clinic_id, doctor.specialty_code) == FULLY_BOOKED or rng.random() < 0.1:
        busy = 1.0  # a full day: nothing to book, something to watch
    start = at_msk(day, hours[0])
    end = at_msk(day, hours[1])
    result: list[SlotDef] = []
    moment = start
    step = timedelta(minutes=spec.slot_min)
    while moment + step <= end:
        local = moment.astimezone(MSK)
        # A 30-minute break for paperwork three hours into the shift.
        if local.hour != hours[0] + 3 or local.minute >= 30:
            result.append(
                SlotDef(
                    id=f"{doctor.id}-{local:%y%m%d%H%M}",
                    starts_at=moment,
                    duration_min=spec.slot_min,
                    taken=rng.random() < busy,
                )
            )
        moment += step
    return result
