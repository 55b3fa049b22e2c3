"""The seeded register's people: the demo personas and random families around them.

Deterministic: one ``random.Random`` per seed, relative to "today" (Moscow date).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from backend_client.policy import make_policy
from backend_client.sandbox.clock import age_on, birthday_in_year
from backend_client.sandbox.history_drafts import Person
from backend_client.sandbox.names import PersonName, make_name, surname_pair


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
