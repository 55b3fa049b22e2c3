"""What a generated record is made of: patients, entry and referral drafts, signing staff.

Plain data shared by the history builder (``history*.py``), the seed and the simulation, plus
the two Russian-style formatters the entry texts use.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from backend_client.models import Section
from backend_client.sandbox.labs import INTERPRETATION, Measured
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


def fmt_date(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def fmt_num(x: float, decimals: int = 1) -> str:
    return f"{x:.{decimals}f}".replace(".", ",")
