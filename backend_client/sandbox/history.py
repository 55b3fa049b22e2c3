"""Several years of a patient's record: visits, labs, imaging, discharges, vaccinations, ...

Everything is drawn from one ``random.Random`` per patient, relative to "today", so the same
seed and date give the same record. Values follow the patient's conditions (a diabetic's HbA1c
falls as treatment works, a hypothyroid TSH normalises on levothyroxine, ...).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from backend_client.models import Section
from backend_client.sandbox.catalog import CLINIC_BY_ID, SPECIALTY_BY_CODE
from backend_client.sandbox.clock import age_on, at_msk
from backend_client.sandbox.conditions import ACUTE, CONDITIONS, Condition, Drug
from backend_client.sandbox.labs import INTERPRETATION, PANELS, Measured, measure
from backend_client.sandbox.names import PersonName

LAB_NAME = "ГБУЗ «Централизованная клинико-диагностическая лаборатория ДЗМ»"
HOSPITALS = [
    "ГБУЗ «Городская клиническая больница № 24 ДЗМ»",
    "ГБУЗ «Городская клиническая больница № 57 ДЗМ»",
]


@dataclass
class Person:
    id: str
    name: PersonName
    sex: str
    birth: date
    clinic_id: str
    height: int
    weight: int
    smoker: bool = False
    conditions: dict[str, date] = field(default_factory=dict)  # key -> onset
    forced_referrals: list[str] = field(default_factory=list)  # specialty codes


@dataclass
class EntryDraft:
    id: str
    section: Section
    title: str
    day: date
    performed_at: datetime | None
    doctor_name: str | None
    doctor_specialty: str | None
    clinic_name: str | None
    fields: list[tuple[str, str]]
    text: str | None = None
    panels: list[tuple[str, list[Measured]]] = field(default_factory=list)

    @property
    def has_abnormal(self) -> bool:
        return any(m.flag not in (None, "normal") for _, ms in self.panels for m in ms)

    def body(self) -> str:
        return json.dumps(
            {
                "fields": [{"label": k, "value": v} for k, v in self.fields],
                "text": self.text,
                "panels": [
                    {"name": name, "results": [_measured_json(m) for m in ms]}
                    for name, ms in self.panels
                ],
            },
            ensure_ascii=False,
        )


def _measured_json(m: Measured) -> dict[str, Any]:
    return {
        "code": m.code,
        "name": m.name,
        "value": m.value,
        "text_value": m.text_value,
        "unit": m.unit,
        "ref_low": m.ref_low,
        "ref_high": m.ref_high,
        "flag": m.flag.value if m.flag else None,
        "interpretation": INTERPRETATION.get(m.flag) if m.flag else None,
    }


@dataclass
class ReferralDraft:
    id: str
    specialty_code: str
    issued_at: date
    valid_until: date
    issued_by: str
    clinic_id: str | None
    diagnosis: str
    entry_id: str


@dataclass
class Staff:
    """Doctor names by (clinic, specialty) for signing documents."""

    by_clinic_spec: dict[tuple[str, str], list[str]]
    lab_doctors: list[str]
    radiologists: list[str]
    functional: list[str]  # функциональная диагностика / эндоскопия
    hospital_doctors: list[str]

    def doctor(self, rng: random.Random, clinic_id: str, spec: str) -> tuple[str, str]:
        """(name, clinic_id) of a doctor of ``spec``: own clinic first, else the KDC (c5)."""
        for cid in (clinic_id, "c2" if clinic_id == "c1" else clinic_id, "c5", "c1", "c3"):
            names = self.by_clinic_spec.get((cid, spec))
            if names:
                return rng.choice(names), cid
        return "Дежурный врач", clinic_id


SPEC_TITLES = {
    "therapist": "Приём врача-терапевта участкового",
    "gp": "Приём врача общей практики",
    "pediatrician": "Приём врача-педиатра участкового",
    "cardiologist": "Консультация врача-кардиолога",
    "endocrinologist": "Консультация врача-эндокринолога",
    "neurologist": "Консультация врача-невролога",
    "gastroenterologist": "Консультация врача-гастроэнтеролога",
    "surgeon": "Приём врача-хирурга",
    "ent": "Приём врача-оториноларинголога",
    "ophthalmologist": "Приём врача-офтальмолога",
    "gynecologist": "Приём врача — акушера-гинеколога",
    "urologist": "Приём врача-уролога",
    "dentist": "Приём врача-стоматолога",
}

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


def _fmt(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def _num(x: float, decimals: int = 1) -> str:
    return f"{x:.{decimals}f}".replace(".", ",")


class HistoryBuilder:
    def __init__(
        self,
        rng: random.Random,
        person: Person,
        today: date,
        staff: Staff,
        new_id: Any,
        years: int = 4,
    ) -> None:
        self.rng = rng
        self.p = person
        self.today = today
        self.staff = staff
        self.new_id = new_id
        self.start = max(person.birth, today - timedelta(days=365 * years))
        self.entries: list[EntryDraft] = []
        self.referrals: list[ReferralDraft] = []
        self.clinic = person.clinic_id

    # --- helpers -------------------------------------------------------------------------

    def age(self, d: date) -> int:
        return age_on(self.p.birth, d)

    def workday(self, lo: date, hi: date) -> date:
        lo = max(lo, self.start)
        hi = min(hi, self.today - timedelta(days=1))
        if hi < lo:
            hi = lo
        d = lo + timedelta(days=self.rng.randint(0, max(0, (hi - lo).days)))
        while d.weekday() >= 5:
            d -= timedelta(days=1)
        return max(d, self.p.birth)

    def moment(self, d: date) -> datetime:
        return at_msk(d, self.rng.randint(8, 18), self.rng.choice((0, 15, 20, 30, 40, 45)))

    def add(self, e: EntryDraft) -> EntryDraft:
        if e.day < self.today:
            self.entries.append(e)
        return e

    def clinic_name(self, cid: str) -> str:
        return CLINIC_BY_ID[cid].name

    def active(self, key: str, when: date) -> bool:
        onset = self.p.conditions.get(key)
        return onset is not None and onset <= when

    # --- lab values ------------------------------------------------------------------------

    def means(self, when: date) -> dict[str, float]:
        m: dict[str, float] = {}
        years_old = self.age(when)
        if years_old >= 65:
            m["CREA"] = 98.0 if self.p.sex == "M" else 84.0
            m["ESR"] = 12.0 if self.p.sex == "M" else 17.0
        onset = self.p.conditions.get("t2d")
        if onset and when >= onset - timedelta(days=60):
            months = max(0.0, (when - onset).days / 30.4)
            # Improves on metformin, with a bump after two years (diet slips), then better again.
            hba1c = max(6.6, 8.9 - 0.09 * months) + (0.5 if 24 <= months <= 30 else 0.0)
            m["HBA1C"] = hba1c
            m["GLU"] = 5.0 + (hba1c - 5.3) * 1.25
        for key in ("lipid", "chd"):
            onset = self.p.conditions.get(key)
            if onset and when >= onset - timedelta(days=60):
                treated = when >= onset + timedelta(days=60)
                m["CHOL"] = 4.6 if treated else 6.7
                m["LDL"] = 2.4 if treated else 4.3
                m["TG"] = 1.6 if treated else 2.2
                if key == "chd" and treated:
                    m["LDL"] = 1.9
        onset = self.p.conditions.get("htn")
        if onset and when >= onset and "CHOL" not in m:
            m["CHOL"] = 5.6
            m["LDL"] = 3.4
        onset = self.p.conditions.get("thyroid")
        if onset and when >= onset - timedelta(days=30):
            m["TSH"] = 8.6 if when < onset + timedelta(days=60) else 2.6
            m["FT4"] = 8.1 if when < onset + timedelta(days=60) else 13.0
        onset = self.p.conditions.get("anemia")
        if onset and when >= onset - timedelta(days=30):
            fixed = when >= onset + timedelta(days=100)
            m["HGB"] = 124.0 if fixed else 104.0
            m["FER"] = 32.0 if fixed else 7.0
            m["HCT"] = 37.0 if fixed else 33.0
        if self.age(when) < 15:
            m.update({"HGB": 125.0, "CREA": 45.0, "ESR": 6.0, "LYMPH": 42.0, "NEUT": 48.0})
        return m

    def lab(self, key: str, d: date, extra: list[str] | None = None) -> EntryDraft:
        keys = [key, *(extra or [])]
        means = self.means(d)
        panels: list[tuple[str, list[Measured]]] = []
        for k in keys:
            panel = PANELS[k]
            child = self.age(d) < 15
            results = [
                measure(self.rng, c, self.p.sex, means.get(c), child=child) for c in panel.codes
            ]
            for code, name, value in panel.text_results:
                if code == "UGLUQ" and means.get("GLU", 5.0) > 9.5:
                    value = "обнаружена (+)"
                results.append(Measured(code, name, None, value, None, None, None, None))
            panels.append((panel.name, results))
        first = PANELS[key]
        title = (
            first.title
            if not extra
            else f"{first.title}; " + "; ".join(PANELS[k].title for k in extra)
        )
        taken = at_msk(d, self.rng.randint(7, 10), self.rng.choice((5, 15, 25, 40, 50)))
        e = EntryDraft(
            self.new_id("e"),
            Section.LABS,
            title,
            d,
            taken,
            self.rng.choice(self.staff.lab_doctors),
            "Врач клинической лабораторной диагностики",
            LAB_NAME,
            [
                ("Биоматериал", ", ".join(dict.fromkeys(PANELS[k].material for k in keys))),
                ("Взятие биоматериала", taken.astimezone(at_msk(d, 0).tzinfo).strftime("%d.%m.%Y")),
                ("Место взятия", self.clinic_name(self.clinic)),
            ],
            panels=panels,
        )
        if e.has_abnormal:
            e.text = (
                "Показатели за пределами референсного интервала отмечены. Оценку результатов "
                "проводит лечащий врач с учётом клинической картины."
            )
        return self.add(e)

    # --- visits ---------------------------------------------------------------------------

    def vitals(self, d: date, fever: bool = False, lungs_override: str | None = None) -> str:
        r = self.rng
        if self.age(d) < 15:
            t = _num(r.uniform(37.4, 38.3)) if fever else "36,6"
            return (
                f"Состояние удовлетворительное. Температура {t} °C. Кожные покровы чистые. "
                f"ЧСС {r.randint(80, 105)} в минуту, ЧДД {r.randint(18, 24)} в минуту. "
                "Дыхание в лёгких везикулярное, хрипов нет. Живот мягкий, безболезненный."
            )
        htn = self.active("htn", d)
        sys_bp = r.randint(132, 158) if htn else r.randint(108, 128)
        dia_bp = r.randint(82, 96) if htn else r.randint(68, 82)
        bmi = self.p.weight / (self.p.height / 100) ** 2
        t = _num(r.uniform(37.2, 38.2)) if fever else _num(r.uniform(36.4, 36.8))
        lungs = (
            "Дыхание жёсткое, рассеянные сухие хрипы на выдохе."
            if self.active("copd", d)
            else "Дыхание везикулярное, хрипов нет."
        )
        if lungs_override:
            lungs = lungs_override
        return (
            "Состояние удовлетворительное. Сознание ясное. Кожные покровы физиологической "
            f"окраски. Рост {self.p.height} см, масса тела {self.p.weight} кг, ИМТ {_num(bmi)} "
            f"кг/м². АД {sys_bp}/{dia_bp} мм рт. ст., ЧСС {r.randint(62, 86)} в минуту, "
            f"ЧДД 16 в минуту, SpO2 {r.randint(95 if self.active('copd', d) else 97, 99)} %, "
            f"температура {t} °C. {lungs} Тоны сердца ясные, ритмичные. Живот мягкий, "
            "безболезненный. Периферических отёков нет."
        )

    def comorbid(self, d: date, except_key: str) -> str | None:
        other = [
            f"{CONDITIONS[k].icd} {CONDITIONS[k].diagnosis}"
            for k in self.p.conditions
            if k != except_key and self.active(k, d)
        ]
        return "; ".join(other) or None

    def visit(
        self,
        d: date,
        spec: str,
        complaints: str,
        anamnesis: str,
        diagnosis: str,
        recommendations: str,
        *,
        fever: bool = False,
        comorbid: str | None = None,
        objective_extra: str | None = None,
        clinic: str | None = None,
    ) -> EntryDraft:
        name, cid = self.staff.doctor(self.rng, clinic or self.clinic, spec)
        if objective_extra and objective_extra.startswith("Дыхание"):
            objective = self.vitals(d, fever, lungs_override=objective_extra)
        else:
            objective = self.vitals(d, fever)
            if objective_extra:
                objective = f"{objective} {objective_extra}"
        fields = [
            ("Жалобы", complaints),
            ("Анамнез заболевания", anamnesis),
            ("Объективный статус", objective),
            ("Диагноз основной", diagnosis),
        ]
        if comorbid:
            fields.append(("Сопутствующие заболевания", comorbid))
        fields.append(("Рекомендации", recommendations))
        return self.add(
            EntryDraft(
                self.new_id("e"),
                Section.PROTOCOLS,
                SPEC_TITLES.get(spec, f"Приём: {SPECIALTY_BY_CODE[spec].name.lower()}"),
                d,
                self.moment(d),
                name,
                SPECIALTY_BY_CODE[spec].name,
                self.clinic_name(cid),
                fields,
            )
        )

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

    # --- other sections --------------------------------------------------------------------

    def prescription(self, d: date, drug: Drug, spec: str) -> None:
        name, cid = self.staff.doctor(self.rng, self.clinic, spec)
        form = "148-1/у-04 (л)" if drug.preferential else "107-1/у"
        fields = [
            ("Препарат (МНН)", drug.inn),
            ("Лекарственная форма и дозировка", drug.form),
            ("Количество", drug.quantity),
            ("Способ применения", drug.sig),
            ("Форма бланка", form),
        ]
        if drug.preferential and drug.benefit:
            fields.append(("Льгота", drug.benefit))
        fields += [
            ("Срок действия", "90 дней" if drug.preferential else "60 дней"),
            (
                "Номер рецепта",
                f"45{self.rng.randint(10, 99)}-{d.year}/{self.rng.randint(1, 999999):06d}",
            ),
        ]
        title = f"Рецепт: {drug.inn}" + (" (льготный)" if drug.preferential else "")
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.PRESCRIPTIONS,
                title,
                d,
                self.moment(d),
                name,
                SPECIALTY_BY_CODE[spec].name,
                self.clinic_name(cid),
                fields,
            )
        )

    def referral(
        self, spec: str, d: date, c: Condition | None, *, used: bool, valid_days: int = 30
    ) -> ReferralDraft:
        name, cid = self.staff.doctor(
            self.rng, self.clinic, "therapist" if self.age(d) >= 18 else "pediatrician"
        )
        own = "c1" if self.clinic in ("c1", "c2") else self.clinic
        if self.age(d) < 18:
            target = "c4"
        elif self.staff.by_clinic_spec.get((own, spec)) and self.rng.random() < 0.6:
            target = own
        else:
            target = "c5"  # the diagnostic centre has every referral specialty
        diagnosis = f"{c.icd} {c.diagnosis}" if c else "Z00.0 Профилактическое обследование"
        entry = self.add(
            EntryDraft(
                self.new_id("e"),
                Section.REFERRALS,
                f"Направление: {SPECIALTY_BY_CODE[spec].name.lower()}",
                d,
                self.moment(d),
                name,
                "Терапевт" if self.age(d) >= 18 else "Педиатр",
                self.clinic_name(cid),
                [
                    ("Куда", f"{SPECIALTY_BY_CODE[spec].name}, консультация"),
                    ("Медицинская организация", CLINIC_BY_ID[target].name),
                    ("Обоснование", diagnosis),
                    ("Действительно до", _fmt(d + timedelta(days=valid_days))),
                ],
            )
        )
        ref = ReferralDraft(
            self.new_id("r"),
            spec,
            d,
            d + timedelta(days=valid_days),
            name,
            target,
            diagnosis,
            entry.id,
        )
        if not used:
            self.referrals.append(ref)
        return ref

    def instrumental(self, kind: str, d: date) -> None:
        d = self.workday(d, d)
        htn = self.active("htn", d)
        r = self.rng
        hr = r.randint(60, 84)
        texts: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
            "ecg": (
                "Электрокардиография (ЭКГ) в 12 отведениях",
                "functional",
                [
                    ("Ритм", f"синусовый, ЧСС {hr} в минуту"),
                    (
                        "Электрическая ось сердца",
                        "отклонена влево" if htn else "нормальное положение",
                    ),
                    (
                        "Интервалы",
                        f"PQ {r.randint(140, 180)} мс, QRS {r.randint(80, 100)} мс, QTc {r.randint(390, 440)} мс",
                    ),
                    (
                        "Заключение",
                        "Синусовый ритм. Признаки гипертрофии левого желудочка."
                        if htn
                        else "Синусовый ритм. Вариант нормы.",
                    ),
                ],
            ),
            "echo": (
                "Эхокардиография (ЭхоКГ)",
                "functional",
                [
                    (
                        "Левый желудочек",
                        f"КДР {r.randint(46, 54)} мм, МЖП {12 if htn else 9} мм, ЗСЛЖ {11 if htn else 9} мм",
                    ),
                    ("Фракция выброса (Симпсон)", f"{r.randint(56, 66)} %"),
                    ("Клапаны", "Митральная регургитация I степени. Аортальный клапан уплотнён."),
                    (
                        "Заключение",
                        "Концентрическая гипертрофия миокарда левого желудочка. Глобальная "
                        "сократимость сохранена. Диастолическая дисфункция ЛЖ I типа.",
                    ),
                ],
            ),
            "abpm": (
                "Суточное мониторирование артериального давления (СМАД)",
                "functional",
                [
                    (
                        "Среднее АД за сутки",
                        f"{r.randint(128, 142)}/{r.randint(78, 88)} мм рт. ст.",
                    ),
                    (
                        "Среднее АД днём / ночью",
                        f"{r.randint(132, 146)}/{r.randint(82, 90)} / {r.randint(118, 130)}/{r.randint(70, 78)} мм рт. ст.",
                    ),
                    ("Суточный индекс", f"{r.randint(6, 12)} % (недостаточное снижение ночью)"),
                    (
                        "Заключение",
                        "Систоло-диастолическая артериальная гипертензия в дневные часы; суточный профиль non-dipper.",
                    ),
                ],
            ),
            "holter": (
                "Холтеровское мониторирование ЭКГ (24 часа)",
                "functional",
                [
                    ("Ритм", f"синусовый, средняя ЧСС {hr} в минуту"),
                    (
                        "Эктопическая активность",
                        f"Одиночные наджелудочковые экстрасистолы ({r.randint(40, 400)} за сутки)",
                    ),
                    (
                        "ST-сегмент",
                        "Эпизоды косонисходящей депрессии ST до 1,5 мм при ЧСС > 110 в минуту во время нагрузки",
                    ),
                    ("Заключение", "Признаки преходящей ишемии миокарда при физической нагрузке."),
                ],
            ),
            "egd": (
                "Эзофагогастродуоденоскопия (ЭГДС)",
                "functional",
                [
                    ("Пищевод", "Проходим, слизистая розовая, кардия смыкается."),
                    ("Желудок", "Слизистая антрального отдела очагово гиперемирована, отёчна."),
                    (
                        "Двенадцатиперстная кишка",
                        "Луковица не деформирована, слизистая без особенностей.",
                    ),
                    ("Быстрый уреазный тест", "H. pylori — отрицательный"),
                    ("Заключение", "Поверхностный антральный гастрит."),
                ],
            ),
            "thyroid_us": (
                "Ультразвуковое исследование щитовидной железы",
                "functional",
                [
                    (
                        "Объём",
                        f"правая доля {_num(r.uniform(5, 8))} мл, левая {_num(r.uniform(4.5, 7.5))} мл",
                    ),
                    (
                        "Эхоструктура",
                        "Диффузно неоднородная, эхогенность снижена. Узловых образований нет.",
                    ),
                    (
                        "Заключение",
                        "УЗ-признаки диффузных изменений щитовидной железы (АИТ). TI-RADS 1.",
                    ),
                ],
            ),
            "spiro": (
                "Спирометрия с бронходилатационной пробой",
                "functional",
                [
                    ("ФЖЕЛ", f"{r.randint(78, 92)} % от должной"),
                    ("ОФВ1", f"{r.randint(55, 68)} % от должной"),
                    ("ОФВ1/ФЖЕЛ", f"{_num(r.uniform(0.58, 0.68), 2)}"),
                    (
                        "Проба с сальбутамолом 400 мкг",
                        f"прирост ОФВ1 {r.randint(3, 9)} % — отрицательная",
                    ),
                    (
                        "Заключение",
                        "Умеренные необратимые нарушения бронхиальной проходимости по обструктивному типу.",
                    ),
                ],
            ),
        }
        title, _, fields = texts[kind]
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.INSTRUMENTAL,
                title,
                d,
                self.moment(d),
                r.choice(self.staff.functional),
                "Врач функциональной диагностики" if kind != "egd" else "Врач-эндоскопист",
                self.clinic_name("c5" if kind in ("echo", "holter", "egd") else self.clinic),
                fields,
            )
        )

    def radiology(self, kind: str, d: date) -> None:
        d = self.workday(d, d)
        r = self.rng
        copd = self.active("copd", d)
        items: dict[str, tuple[str, str, str, str]] = {
            "fluoro": (
                "Флюорография органов грудной клетки",
                "Эффективная доза 0,03 мЗв.",
                "Лёгочные поля без очаговых и инфильтративных теней. "
                + (
                    "Лёгочный рисунок усилен, деформирован в базальных отделах. "
                    if copd
                    else "Лёгочный рисунок не изменён. "
                )
                + "Корни структурны. Синусы свободны. Тень сердца не расширена.",
                "Пневмосклероз. Данных за очаговую патологию нет."
                if copd
                else "Без патологических изменений.",
            ),
            "mammo": (
                "Маммография (скрининг), обе молочные железы",
                "Эффективная доза 0,36 мЗв. Тип плотности B по ACR.",
                "Молочные железы с преобладанием жировой ткани, фиброзные тяжи. Очаговых "
                "образований, скоплений микрокальцинатов не выявлено. Подмышечные лимфоузлы не "
                "увеличены.",
                r.choice(
                    [
                        "BI-RADS 1 — без патологических изменений. Следующее исследование через 2 года.",
                        "BI-RADS 2 — доброкачественные изменения (фиброзно-жировая инволюция). "
                        "Следующее исследование через 2 года.",
                    ]
                ),
            ),
            "mri_spine": (
                "МРТ пояснично-крестцового отдела позвоночника",
                "Напряжённость поля 1,5 Тл, без контрастного усиления.",
                "Поясничный лордоз выпрямлен. Высота дисков L4–L5, L5–S1 снижена, сигнал на T2 "
                f"снижен. Дорзальная протрузия диска L4–L5 до {r.randint(2, 4)} мм без компрессии "
                "корешков. Позвоночный канал не сужен.",
                "МР-картина остеохондроза поясничного отдела позвоночника, протрузия диска L4–L5.",
            ),
            "ct_chest": (
                "Компьютерная томография органов грудной клетки",
                "Эффективная доза 3,1 мЗв, без контрастного усиления.",
                "Центрилобулярная эмфизема в верхних долях обоих лёгких. Стенки бронхов "
                "утолщены. Очаговых и инфильтративных изменений нет. Внутригрудные лимфоузлы не "
                "увеличены.",
                "КТ-признаки хронического бронхита и центрилобулярной эмфиземы лёгких.",
            ),
            "xray_knee": (
                "Рентгенография коленных суставов в двух проекциях",
                "Эффективная доза 0,01 мЗв.",
                "Суставные щели неравномерно сужены, больше в медиальных отделах. Краевые "
                "остеофиты, субхондральный склероз.",
                "Рентгенологические признаки двустороннего гонартроза II стадии (Kellgren–Lawrence).",
            ),
            "ct_covid": (
                "Компьютерная томография органов грудной клетки",
                "Эффективная доза 2,8 мЗв.",
                "В нижних долях обоих лёгких субплевральные участки уплотнения по типу «матового "
                "стекла», объём поражения менее 25 %.",
                "КТ-картина вирусной пневмонии, КТ-1 (вероятность COVID-19 высокая).",
            ),
        }
        title, technique, description, conclusion = items[kind]
        place = "c5" if kind in ("mri_spine", "ct_chest", "ct_covid") else self.clinic
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.RADIOLOGY,
                title,
                d,
                self.moment(d),
                r.choice(self.staff.radiologists),
                "Врач-рентгенолог",
                self.clinic_name(place),
                [("Методика", technique), ("Описание", description), ("Заключение", conclusion)],
            )
        )

    def vaccination(self, d: date, infection: str, stage: str, vaccine: str) -> None:
        spec = "pediatrician" if self.age(d) < 18 else "therapist"
        name, cid = self.staff.doctor(self.rng, self.clinic, spec)
        prep, dose = vaccine.split(", ", 1)
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.VACCINATIONS,
                f"Вакцинация: {infection}",
                d,
                self.moment(d),
                name,
                SPECIALTY_BY_CODE[spec].name,
                self.clinic_name(cid) if d > self.p.birth + timedelta(days=7) else "Родильный дом",
                [
                    ("Инфекция", infection),
                    ("Этап", stage),
                    ("Препарат", prep),
                    (
                        "Серия",
                        f"{self.rng.randint(10, 99)}{self.rng.choice('АБВКМ')}{self.rng.randint(100, 999)}",
                    ),
                    ("Доза и способ введения", dose),
                    ("Реакция", "Нормальная, поствакцинальных осложнений нет"),
                ],
            )
        )

    def dispensary(self, d: date) -> None:
        age = self.age(d)
        name, cid = self.staff.doctor(
            self.rng, self.clinic, "therapist" if age >= 18 else "pediatrician"
        )
        if age < 18:
            fields = [
                ("Вид осмотра", "Профилактический медицинский осмотр несовершеннолетнего"),
                ("Возраст", f"{age} лет" if age >= 5 else f"{age} г."),
                ("Физическое развитие", "Нормальное, гармоничное"),
                ("Группа здоровья", self.rng.choice(["I", "II", "II"])),
                ("Медицинская группа для занятий физкультурой", "Основная"),
                ("Рекомендации", "Режим дня, рациональное питание, прививки по календарю."),
            ]
            title = "Профилактический осмотр несовершеннолетнего"
        else:
            chronic = [k for k in self.p.conditions if self.active(k, d)]
            group = "IIIа" if chronic else self.rng.choice(["I", "II"])
            risk = (
                "высокий"
                if ("htn" in chronic or "chd" in chronic)
                else "умеренный"
                if age >= 40
                else "низкий"
            )
            glu = self.means(d).get("GLU", 5.0)
            chol = self.means(d).get("CHOL", 4.8)
            fields = [
                ("Вид", "Диспансеризация, I этап" if age >= 18 else "Профосмотр"),
                (
                    "Антропометрия",
                    f"Рост {self.p.height} см, масса {self.p.weight} кг, окружность талии {self.rng.randint(70, 104)} см",
                ),
                ("Глюкоза крови (экспресс)", f"{_num(self.rng.gauss(glu, 0.3))} ммоль/л"),
                ("Общий холестерин (экспресс)", f"{_num(self.rng.gauss(chol, 0.3))} ммоль/л"),
                ("Сердечно-сосудистый риск (SCORE2)", risk),
                ("Курение", "да" if self.p.smoker else "нет"),
                ("Группа здоровья", group),
                (
                    "Заключение",
                    "Выявлены хронические неинфекционные заболевания, требующие диспансерного "
                    "наблюдения."
                    if chronic
                    else "Хронических неинфекционных заболеваний не выявлено.",
                ),
                (
                    "Рекомендации",
                    "Отказ от курения, физическая активность не менее 150 минут в неделю, "
                    "ограничение соли и сахара."
                    if self.p.smoker
                    else "Физическая активность не менее 150 минут в неделю, "
                    "рациональное питание, ограничение соли.",
                ),
            ]
            title = "Диспансеризация взрослого населения"
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.DISPENSARY,
                title,
                d,
                self.moment(d),
                name,
                SPECIALTY_BY_CODE["therapist" if age >= 18 else "pediatrician"].name,
                self.clinic_name(cid),
                fields,
            )
        )

    def discharge(self, d: date, key: str) -> None:
        r = self.rng
        days = r.randint(6, 11)
        out = d + timedelta(days=days)
        if key == "chd":
            dept, diag, treat, results = (
                "Кардиологическое отделение",
                "I20.0 Нестабильная стенокардия. Фон: ИБС, гипертоническая болезнь III стадии",
                "Эноксапарин натрия, ацетилсалициловая кислота, клопидогрел, аторвастатин 80 мг, "
                "бисопролол. Выполнена коронароангиография: стеноз передней нисходящей артерии "
                "75 %, стентирование с имплантацией 1 стента с лекарственным покрытием.",
                "Тропонин I — отрицательный двукратно. ЭхоКГ: ФВ 55 %, гипокинеза нет.",
            )
        else:
            dept, diag, treat, results = (
                "Пульмонологическое отделение",
                "J18.1 Внебольничная долевая пневмония нижней доли правого лёгкого, нетяжёлая. "
                "Фон: ХОБЛ",
                "Цефтриаксон 2 г в/в 7 дней, азитромицин 500 мг 3 дня, ингаляции беродуала, "
                "дыхательная гимнастика.",
                "Рентгенография ОГК при выписке: положительная динамика, инфильтрация "
                "разрешается. SpO2 при выписке 96 %.",
            )
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.DISCHARGES,
                f"Выписной эпикриз: {dept.lower()}",
                out,
                at_msk(out, 13, 0),
                r.choice(self.staff.hospital_doctors),
                "Лечащий врач стационара",
                r.choice(HOSPITALS),
                [
                    ("Отделение", dept),
                    ("Период госпитализации", f"{_fmt(d)} — {_fmt(out)} ({days} к/дн.)"),
                    ("Вид госпитализации", "экстренная"),
                    ("Диагноз основной", diag),
                    ("Проведённое лечение", treat),
                    ("Результаты обследования", results),
                    (
                        "Состояние при выписке",
                        "Удовлетворительное. Выписан"
                        + ("а" if self.p.sex == "F" else "")
                        + " на амбулаторное лечение.",
                    ),
                    (
                        "Рекомендации",
                        "Наблюдение терапевта и кардиолога по месту жительства; двойная "
                        "антитромбоцитарная терапия 12 месяцев; контроль липидограммы через 6 недель."
                        if key == "chd"
                        else "Наблюдение терапевта, контрольная рентгенография через 4 недели, "
                        "вакцинация против пневмококковой инфекции.",
                    ),
                ],
            )
        )

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
