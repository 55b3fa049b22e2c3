"""Several years of a patient's record: visits, labs, imaging, discharges, vaccinations, ...

Everything is drawn from one ``random.Random`` per patient, relative to "today", so the same
seed and date give the same record. Values follow the patient's conditions (a diabetic's HbA1c
falls as treatment works, a hypothyroid TSH normalises on levothyroxine, ...).

The builder is split by concern: ``history_drafts`` (the data), ``history_base`` (state, labs,
visits), ``history_exams`` (instrumental studies, imaging), ``history_documents``
(prescriptions, referrals, vaccinations, check-ups, discharges); this module puts them
together and walks the years.
"""

from __future__ import annotations

from datetime import date, timedelta

from backend_client.sandbox.catalog import SPECIALTY_BY_CODE
from backend_client.sandbox.conditions import ACUTE, CONDITIONS
from backend_client.sandbox.history_documents import DocumentsMixin
from backend_client.sandbox.history_drafts import EntryDraft, ReferralDraft
from backend_client.sandbox.history_exams import ExamsMixin

# National calendar (приказ Минздрава № 1122н): (age in days, infection, stage, vaccine).
CHILD_CALENDAR: list[tuple[int, str, str, str]] = [
    (0, "Вирусный гепатит B", "V1", "Регевак B, 0,5 мл в/м"),
    (4, "Туберкулёз", "V", "БЦЖ-М, 0,025 мг в/к"),
    (31, "Вирусный гепатит B", "V2", "Регевак B, 0,5 мл в/м"),
    (61, "Пневмококковая инфекция", "V1", "Превенар 13, 0,5 мл в/м"),
    (92, "Дифтерия, коклюш, столбняк, полиомиелит, Hib-инфекция", "V1", "Пентаксим, 0,5 мл в/м"),
    (137, "Дифтерия, коклюш, столбняк, полиомиелит, Hib-инфекция", "V2", "Пентаксим, 0,5 мл в/м"),
    (137, "Пневмококковая инфекция", "V2", "Превенар 13, 0,5 мл в/м"),
    (183, "Дифтерия, коклюш, столбняк, полиомиелит, Hib-инфекция", "V3", "Пентаксим, 0,5 мл в/м"),
    (183, "Вирусный гепатит B", "V3", "Регевак B, 0,5 мл в/м"),
    (366, "Корь, краснуха, эпидемический паротит", "V", "Вактривир, 0,5 мл п/к"),
    (457, "Пневмококковая инфекция", "RV", "Превенар 13, 0,5 мл в/м"),
    (548, "Дифтерия, коклюш, столбняк, полиомиелит", "RV1", "Пентаксим, 0,5 мл в/м"),
    (609, "Полиомиелит", "RV2", "БиВак полио, 2 капли внутрь"),
    (2192, "Корь, краснуха, эпидемический паротит", "RV", "Вактривир, 0,5 мл п/к"),
    (2192, "Дифтерия, столбняк", "RV2", "АДС-М, 0,5 мл в/м"),
    (2557, "Туберкулёз", "RV", "БЦЖ, 0,05 мг в/к"),
    (5114, "Дифтерия, столбняк", "RV3", "АДС-М, 0,5 мл в/м"),
    (5114, "Полиомиелит", "RV3", "БиВак полио, 2 капли внутрь"),
]


class HistoryBuilder(ExamsMixin, DocumentsMixin):
    def condition_course(self, key: str) -> None:
        c = CONDITIONS[key]
        onset = self.p.conditions[key]
        r = self.rng
        first_in_window = onset >= self.start
        if first_in_window:
            d = self.workday(onset, onset)
            self.lab(c.labs[0], d - timedelta(days=3)) if c.labs else None
            self.visit(
                d,
                "therapist",
                c.complaints[0],
                "Считает себя больным в течение нескольких месяцев. Ранее не обследовался.",
                f"{c.icd} {c.diagnosis} (впервые выявленное)",
                " ".join(c.recommendations),
                comorbid=self.comorbid(d, key),
            )
            if SPECIALTY_BY_CODE[c.specialist].needs_referral:
                self.referral(c.specialist, d, c, used=True)
        day = max(onset, self.start) + timedelta(days=r.randint(40, 90))
        n = 0
        while day < self.today:
            spec = c.specialist if n % 2 == 1 else "therapist"
            if c.labs:
                for i in range(max(1, c.labs_per_year // 2)):
                    self.lab(c.labs[i % len(c.labs)], day - timedelta(days=r.randint(2, 6)))
            self.visit(
                day,
                spec,
                r.choice(c.complaints[1:] or c.complaints),
                f"{c.anamnesis} Диагноз установлен в {onset.year} г.",
                f"{c.icd} {c.diagnosis}",
                " ".join(c.recommendations),
                comorbid=self.comorbid(day, key),
            )
            for drug in c.drugs:
                if drug.preferential or n % 2 == 0:
                    self.prescription(day, drug, spec)
            if c.instrumental and n % 2 == 0:
                self.instrumental(
                    c.instrumental[(n // 2) % len(c.instrumental)],
                    day + timedelta(days=r.randint(3, 12)),
                )
            if c.radiology and n == 1:
                self.radiology(c.radiology[0], day + timedelta(days=r.randint(5, 20)))
            n += 1
            day += timedelta(days=int(365 / max(2, c.labs_per_year)) + r.randint(-20, 20))
        # Extra HbA1c checks for diabetics: the trend the bot charts.
        if c.labs_per_year >= 3:
            d = max(onset, self.start) + timedelta(days=20)
            while d < self.today:
                self.lab(c.labs[0], self.workday(d, d))
                d += timedelta(days=r.randint(85, 100))

    # --- the whole record ------------------------------------------------------------------

    def build(self) -> tuple[list[EntryDraft], list[ReferralDraft]]:
        r = self.rng
        p = self.p
        if self.age(self.today) < 18:
            self.build_child()
        else:
            self.build_adult()
        for key in p.conditions:
            self.condition_course(key)
        for spec in p.forced_referrals:
            reason = next((k for k in p.conditions if CONDITIONS[k].specialist == spec), None)
            d = self.today - timedelta(days=r.randint(3, 12))
            self.referral(
                spec, self.workday(d, d), CONDITIONS[reason] if reason else None, used=False
            )
        return self.entries, self.referrals

    def build_adult(self) -> None:
        r = self.rng
        p = self.p
        for year in range(self.start.year, self.today.year + 1):
            y0, y1 = date(year, 1, 10), date(year, 12, 25)
            age = self.age(date(year, 7, 1))
            if age >= 40 or age % 3 == 0:
                d = self.workday(date(year, 2, 1), date(year, 11, 30))
                self.lab("cbc", d)
                self.lab("bio", d, ["lipid"] if age >= 40 else None)
                if p.sex == "M" and age >= 50 and age % 2 == 0:
                    self.lab("psa", d)
                self.dispensary(d + timedelta(days=r.randint(5, 10)))
                self.instrumental("ecg", d + timedelta(days=r.randint(1, 4)))
            if r.random() < 0.8:
                self.radiology("fluoro", self.workday(y0, y1))
            if p.sex == "F" and 40 <= age <= 75 and year % 2 == 0:
                self.radiology("mammo", self.workday(y0, y1))
            if r.random() < (0.6 if age >= 60 else 0.35):
                self.vaccination(
                    self.workday(date(year, 9, 20), date(year, 11, 20)),
                    "Грипп",
                    "V",
                    "Ультрикс Квадри, 0,5 мл в/м",
                )
            if r.random() < 0.7:
                a = r.choice([x for x in ACUTE if x.icd != "H66.9"])
                d = self.workday(y0, y1)
                self.visit(
                    d,
                    "therapist",
                    a.complaints,
                    "Заболела остро 2 дня назад." if p.sex == "F" else "Заболел остро 2 дня назад.",
                    f"{a.icd} {a.diagnosis}",
                    a.recommendations,
                    fever=True,
                    objective_extra=a.objective_extra,
                )
            if year == 2021:
                d = self.workday(date(2021, 3, 1), date(2021, 9, 1))
                self.vaccination(
                    d, "COVID-19", "V1", "Гам-КОВИД-Вак (Спутник V), компонент I, 0,5 мл в/м"
                )
                self.vaccination(
                    d + timedelta(days=21),
                    "COVID-19",
                    "V2",
                    "Гам-КОВИД-Вак (Спутник V), компонент II, 0,5 мл в/м",
                )
        if self.start.year <= 2022 and r.random() < 0.15:
            self.radiology("ct_covid", self.workday(date(2022, 1, 15), date(2022, 2, 28)))
        tetanus = p.birth.year + 18 + ((self.today.year - p.birth.year - 18) // 10) * 10
        if tetanus >= self.start.year:
            self.vaccination(
                self.workday(date(tetanus, 3, 1), date(tetanus, 10, 1)),
                "Дифтерия, столбняк",
                "RV",
                "АДС-М, 0,5 мл в/м",
            )
        if "chd" in p.conditions and self.age(self.today) >= 60:
            self.discharge(
                self.workday(self.today - timedelta(days=500), self.today - timedelta(days=300)),
                "chd",
            )
        if "copd" in p.conditions:
            self.discharge(
                self.workday(self.today - timedelta(days=800), self.today - timedelta(days=600)),
                "copd",
            )
        if p.sex == "F" and 18 <= self.age(self.today) <= 65 and r.random() < 0.5:
            d = self.workday(self.today - timedelta(days=400), self.today - timedelta(days=30))
            self.visit(
                d,
                "gynecologist",
                "Профилактический осмотр. Жалоб нет.",
                "Менструальный цикл регулярный.",
                "Z01.4 Гинекологическое обследование (общее) (рутинное)",
                "Цитологический скрининг (ПАП-тест) — взят. УЗИ органов малого таза 1 раз в год. Повторный осмотр через год.",
            )
        if r.random() < 0.4:
            d = self.workday(self.today - timedelta(days=700), self.today - timedelta(days=20))
            self.visit(
                d,
                "ophthalmologist",
                "Снижение зрения вдаль, утомляемость глаз при работе за компьютером.",
                "Очки не носит.",
                "H52.1 Миопия слабой степени обоих глаз",
                "Очковая коррекция для дали, гимнастика для глаз, контроль внутриглазного давления 1 раз в год.",
                objective_extra="Visus OD 0,6 sph −1,0 D = 1,0; OS 0,5 sph −1,25 D = 1,0. ВГД OU 18 мм рт. ст.",
            )

    def build_child(self) -> None:
        r = self.rng
        p = self.p
        for days, infection, stage, vaccine in CHILD_CALENDAR:
            d = p.birth + timedelta(days=days + r.randint(0, 12 if days else 0))
            if d < self.today:
                self.vaccination(d, infection, stage, vaccine)
        for year in range(self.start.year, self.today.year + 1):
            age = self.age(date(year, 7, 1))
            d = self.workday(date(year, 3, 1), date(year, 10, 30))
            if d > p.birth + timedelta(days=30):
                self.dispensary(d)
                if age >= 1:
                    self.lab("cbc", d - timedelta(days=2), ["urine"])
            if age >= 1 and r.random() < 0.8:
                self.vaccination(
                    self.workday(date(year, 9, 20), date(year, 11, 20)),
                    "Грипп",
                    "V",
                    "Ультрикс Квадри, 0,5 мл в/м",
                )
            for _ in range(r.randint(1, 3)):
                a = r.choice([x for x in ACUTE if x.child])
                d = self.workday(date(year, 1, 10), date(year, 12, 20))
                if d <= p.birth + timedelta(days=60):
                    continue
                spec = "ent" if a.icd == "H66.9" else "pediatrician"
                self.visit(
                    d,
                    spec,
                    a.complaints,
                    ("Заболела" if p.sex == "F" else "Заболел")
                    + " остро, контакт с больными ОРВИ в детском коллективе.",
                    f"{a.icd} {a.diagnosis}",
                    a.recommendations,
                    fever=True,
                    objective_extra=a.objective_extra,
                )
