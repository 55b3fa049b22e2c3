"""Deterministic seed of the sandbox: patients, families, doctors, slots and records.

Same ``seed`` and same "today" (Moscow date) -> the same data. Everything is generated in
memory first and written with a handful of bulk inserts, so the full seed takes well under
two seconds.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.policy import make_policy
from backend_client.sandbox import schema as s
from backend_client.sandbox.catalog import (
    CLINICS,
    SPECIALTIES,
    DoctorDef,
    build_doctors,
    day_slots,
)
from backend_client.sandbox.clock import MSK, age_on, at_msk, birthday_in_year
from backend_client.sandbox.history import HistoryBuilder, Person, Staff
from backend_client.sandbox.names import PersonName, make_name, surname_pair

SLOT_WINDOW_DAYS = 14
SCHEMA_VERSION = "1"


@dataclass
class Patient(Person):
    policy: str = ""
    phone: str = ""
    persona: str | None = None
    attached: list[str] = field(default_factory=list)


def _years_ago(today: date, years: int, rng: random.Random) -> date:
    """A birth date ``years`` full years before today (random day within that year of age)."""
    latest = birthday_in_year(today, today.year - years)
    return latest - timedelta(days=rng.randint(1, 360))


class Population:
    def __init__(self, seed: int, today: date) -> None:
        self.seed = seed
        self.today = today
        self.rng = random.Random(f"{seed}/population")
        self.patients: list[Patient] = []
        self.family: list[tuple[str, str]] = []

    def _policy(self) -> str:
        while True:
            body = "77" + "".join(str(self.rng.randint(0, 9)) for _ in range(13))
            policy = make_policy(body)
            if all(p.policy != policy for p in self.patients):
                return policy

    def _phone(self) -> str:
        code = self.rng.choice(["903", "905", "909", "915", "916", "925", "926", "977", "985"])
        return f"+7{code}{self.rng.randint(0, 9999999):07d}"

    def add(
        self,
        name: PersonName,
        birth: date,
        *,
        clinic: str | None = None,
        conditions: dict[str, float] | None = None,
        persona: str | None = None,
        referrals: list[str] | None = None,
        smoker: bool = False,
    ) -> Patient:
        r = self.rng
        n = len(self.patients) + 1
        age = age_on(birth, self.today)
        clinic_id = "c4" if age < 18 else clinic or r.choice(["c1", "c1", "c3"])
        if age < 15:
            height = 50 + int(age * 6.3) + r.randint(-4, 4)
            weight = max(3, int(3.4 + age * 2.9) + r.randint(-2, 3))
        else:
            height = r.randint(170, 188) if name.sex == "M" else r.randint(156, 172)
            bmi = r.uniform(21, 31) + (2 if age > 50 else 0)
            weight = int(bmi * (height / 100) ** 2)
        onsets = {
            key: self.today - timedelta(days=int(years_ago * 365) + r.randint(0, 200))
            for key, years_ago in (conditions or {}).items()
        }
        p = Patient(
            id=f"p{n:03d}{r.getrandbits(24):06x}",
            name=name,
            sex=name.sex,
            birth=birth,
            clinic_id=clinic_id,
            height=height,
            weight=weight,
            smoker=smoker,
            conditions=onsets,
            forced_referrals=list(referrals or []),
            policy=self._policy(),
            phone=self._phone(),
            persona=persona,
        )
        self.patients.append(p)
        return p

    def random_conditions(self, sex: str, age: int) -> dict[str, float]:
        r = self.rng
        c: dict[str, float] = {}
        if age >= 45 and r.random() < 0.5:
            c["htn"] = r.choice([2, 5, 8])
        if age >= 50 and r.random() < 0.22:
            c["t2d"] = r.choice([2, 3, 6])
        if age >= 60 and sex == "M" and r.random() < 0.3:
            c["chd"] = 6
        if age >= 35 and "chd" not in c and r.random() < 0.25:
            c["lipid"] = r.choice([1, 3])
        if r.random() < (0.15 if sex == "F" else 0.03) and age >= 25:
            c["thyroid"] = r.choice([1, 3, 6])
        if age >= 25 and r.random() < 0.18:
            c["gastritis"] = 5
        if age >= 25 and r.random() < 0.22:
            c["back"] = r.choice([1, 2])
        if sex == "F" and 20 <= age <= 50 and r.random() < 0.15:
            c["anemia"] = 1
        if age >= 55 and r.random() < 0.2:
            c["knee_oa"] = 5
        return c

    def person(
        self,
        sex: str,
        age: int,
        *,
        surname: tuple[str, str] | None = None,
        father: str | None = None,
        avoid: set[str] | None = None,
        **kw: Any,
    ) -> Patient:
        birth = _years_ago(self.today, age, self.rng)
        avoid = set() if avoid is None else avoid
        for _ in range(10):  # siblings do not share a first name
            name = make_name(self.rng, sex, birth.year, surname=surname, father_first=father)
            if name.first not in avoid:
                break
        avoid.add(name.first)
        if "conditions" not in kw and age >= 18:
            kw["conditions"] = self.random_conditions(sex, age)
        return self.add(name, birth, **kw)

    def link(self, parent: Patient, child: Patient) -> None:
        self.family.append((parent.id, child.id))

    # --- the demo personas (stable names and shapes for people trying the bot) -----------

    def personas(self) -> None:
        t = self.today
        rng = self.rng
        galina = self.add(
            PersonName("Кузнецова", "Галина", "Петровна", "F"),
            _years_ago(t, 78, rng),
            clinic="c1",
            conditions={"htn": 9, "t2d": 3.2, "knee_oa": 6},
            persona="elderly_mother",
            referrals=["endocrinologist", "cardiologist"],
        )
        anna = self.add(
            PersonName("Смирнова", "Анна", "Сергеевна", "F"),
            _years_ago(t, 38, rng),
            clinic="c1",
            conditions={"thyroid": 2.5},
            persona="mother",
        )
        dmitry = self.add(
            PersonName("Смирнов", "Дмитрий", "Андреевич", "M"),
            _years_ago(t, 40, rng),
            clinic="c1",
            conditions={"back": 1},
            persona="father",
        )
        # Turns 15 in 9 days: the parent's automatic access ends then. The year is that of the
        # birthday, not of today: seeded on 23-31 December the birthday falls in January.
        turns_15 = t + timedelta(days=9)
        egor_birth = birthday_in_year(turns_15, turns_15.year - 15)
        egor = self.add(
            PersonName("Смирнов", "Егор", "Дмитриевич", "M"), egor_birth, persona="teen_turning_15"
        )
        polina = self.add(
            PersonName("Смирнова", "Полина", "Дмитриевна", "F"),
            _years_ago(t, 8, rng),
            persona="child",
        )
        self.link(galina, anna)
        for parent in (anna, dmitry):
            self.link(parent, egor)
            self.link(parent, polina)
        viktor = self.add(
            PersonName("Волков", "Виктор", "Степанович", "M"),
            _years_ago(t, 84, rng),
            clinic="c3",
            conditions={"chd": 7, "htn": 12, "copd": 6},
            persona="elderly_father",
            referrals=["cardiologist"],
            smoker=True,
        )
        alexey = self.add(
            PersonName("Волков", "Алексей", "Викторович", "M"),
            _years_ago(t, 55, rng),
            clinic="c3",
            conditions={"lipid": 2, "gastritis": 4},
            persona="adult_son",
            referrals=["gastroenterologist"],
        )
        self.link(viktor, alexey)
        self.add(
            PersonName("Морозов", "Артём", "Игоревич", "M"),
            _years_ago(t, 28, rng),
            clinic="c3",
            conditions={},
            persona="single",
        )

    def random_families(self, target: int) -> None:
        r = self.rng
        while len(self.patients) < target:
            kind = r.random()
            sur = surname_pair(r)
            if kind < 0.4:  # a young family
                husband = self.person("M", r.randint(30, 46), surname=sur)
                wife = self.person("F", husband_age(husband, self.today, r), surname=sur)
                clinic = r.choice(["c1", "c3"])
                husband.clinic_id = wife.clinic_id = clinic
                oldest = min(17, age_on(wife.birth, self.today) - 21)
                age = r.randint(0, max(0, oldest))
                names: set[str] = set()
                for _ in range(r.randint(1, 3)):
                    if age < 0:
                        break
                    sex = r.choice("MF")
                    child = self.person(
                        sex, age, surname=sur, father=husband.name.first, avoid=names
                    )
                    age -= r.randint(2, 5)  # siblings a plausible distance apart
                    self.link(husband, child)
                    self.link(wife, child)
            elif kind < 0.75:  # elderly parent(s) with adult children
                father = self.person("M", r.randint(68, 88), surname=sur, smoker=r.random() < 0.3)
                mother = None
                if r.random() < 0.6:
                    mother = self.person("F", r.randint(65, 85), surname=sur)
                for _ in range(r.randint(1, 2)):
                    sex = r.choice("MF")
                    child_sur = sur if sex == "M" or r.random() < 0.4 else surname_pair(r)
                    child = self.person(
                        sex,
                        max(30, age_on(father.birth, self.today) - r.randint(24, 32)),
                        surname=child_sur if sex == "F" else sur,
                        father=father.name.first,
                    )
                    self.link(father, child)
                    if mother:
                        self.link(mother, child)
            else:  # someone without family in the register
                self.person(r.choice("MF"), r.randint(19, 75), smoker=r.random() < 0.25)


def husband_age(husband: Patient, today: date, rng: random.Random) -> int:
    return max(25, age_on(husband.birth, today) - rng.randint(0, 5))


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
