"""The history builder's core: its state, dates, lab values and doctor's visits.

``HistoryBase`` is what the section mixins (``history_exams``, ``history_documents``) build
on; ``history.HistoryBuilder`` puts them together into a whole record.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from backend_client.models import Section
from backend_client.sandbox.catalog import CLINIC_BY_ID, SPECIALTY_BY_CODE
from backend_client.sandbox.clock import age_on, at_msk
from backend_client.sandbox.conditions import CONDITIONS
from backend_client.sandbox.history_drafts import (
    LAB_NAME,
    EntryDraft,
    Person,
    ReferralDraft,
    Staff,
    fmt_num,
)
from backend_client.sandbox.labs import PANELS, Measured, measure

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


class HistoryBase:
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
            t = fmt_num(r.uniform(37.4, 38.3)) if fever else "36,6"
            return (
                f"Состояние удовлетворительное. Температура {t} °C. Кожные покровы чистые. "
                f"ЧСС {r.randint(80, 105)} в минуту, ЧДД {r.randint(18, 24)} в минуту. "
                "Дыхание в лёгких везикулярное, хрипов нет. Живот мягкий, безболезненный."
            )
        htn = self.active("htn", d)
        sys_bp = r.randint(132, 158) if htn else r.randint(108, 128)
        dia_bp = r.randint(82, 96) if htn else r.randint(68, 82)
        bmi = self.p.weight / (self.p.height / 100) ** 2
        t = fmt_num(r.uniform(37.2, 38.2)) if fever else fmt_num(r.uniform(36.4, 36.8))
        lungs = (
            "Дыхание жёсткое, рассеянные сухие хрипы на выдохе."
            if self.active("copd", d)
            else "Дыхание везикулярное, хрипов нет."
        )
        if lungs_override:
            lungs = lungs_override
        return (
            "Состояние удовлетворительное. Сознание ясное. Кожные покровы физиологической "
            f"окраски. Рост {self.p.height} см, масса тела {self.p.weight} кг, ИМТ {fmt_num(bmi)} "
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
