"""Laboratory analytes and panels with units and adult reference ranges used in Moscow labs."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from backend_client.models import AnalyteFlag


@dataclass(frozen=True)
class Analyte:
    code: str
    name: str
    unit: str
    ref_m: tuple[float | None, float | None]
    ref_f: tuple[float | None, float | None]
    mean: float
    sd: float
    decimals: int = 1

    def ref(self, sex: str) -> tuple[float | None, float | None]:
        return self.ref_m if sex == "M" else self.ref_f


def _a(
    code: str,
    name: str,
    unit: str,
    ref: tuple[float | None, float | None],
    mean: float,
    sd: float,
    decimals: int = 1,
    ref_f: tuple[float | None, float | None] | None = None,
) -> Analyte:
    return Analyte(code, name, unit, ref, ref_f or ref, mean, sd, decimals)


ANALYTES: dict[str, Analyte] = {
    a.code: a
    for a in [
        _a("HGB", "Гемоглобин", "г/л", (130, 160), 142, 8, 0, ref_f=(120, 140)),
        _a("RBC", "Эритроциты", "×10¹²/л", (4.0, 5.0), 4.6, 0.25, 2, ref_f=(3.5, 4.7)),
        _a("HCT", "Гематокрит", "%", (40, 48), 43, 2, 1, ref_f=(36, 42)),
        _a("WBC", "Лейкоциты", "×10⁹/л", (4.0, 9.0), 6.2, 1.2, 1),
        _a("NEUT", "Нейтрофилы", "%", (47, 72), 58, 6, 0),
        _a("LYMPH", "Лимфоциты", "%", (19, 37), 30, 5, 0),
        _a("PLT", "Тромбоциты", "×10⁹/л", (180, 320), 245, 35, 0),
        _a("ESR", "СОЭ", "мм/ч", (2, 10), 6, 3, 0, ref_f=(2, 15)),
        _a("GLU", "Глюкоза", "ммоль/л", (3.9, 6.1), 5.0, 0.4, 1),
        _a("CREA", "Креатинин", "мкмоль/л", (62, 115), 85, 10, 0, ref_f=(53, 97)),
        _a("UREA", "Мочевина", "ммоль/л", (2.5, 8.3), 5.2, 1.0, 1),
        _a("ALT", "АЛТ", "Ед/л", (None, 41), 22, 7, 0, ref_f=(None, 33)),
        _a("AST", "АСТ", "Ед/л", (None, 40), 23, 6, 0, ref_f=(None, 32)),
        _a("TBIL", "Билирубин общий", "мкмоль/л", (3.4, 20.5), 11, 3.5, 1),
        _a("CHOL", "Холестерин общий", "ммоль/л", (None, 5.2), 4.8, 0.5, 2),
        _a("LDL", "Холестерин ЛПНП", "ммоль/л", (None, 3.0), 2.7, 0.4, 2),
        _a("HDL", "Холестерин ЛПВП", "ммоль/л", (1.0, None), 1.4, 0.2, 2, ref_f=(1.2, None)),
        _a("TG", "Триглицериды", "ммоль/л", (None, 1.7), 1.2, 0.3, 2),
        _a("HBA1C", "Гликированный гемоглобин (HbA1c)", "%", (4.0, 6.0), 5.3, 0.25, 1),
        _a("TSH", "ТТГ", "мМЕ/л", (0.4, 4.0), 1.9, 0.6, 2),
        _a("FT4", "Т4 свободный", "пмоль/л", (9.0, 19.0), 13.5, 1.8, 1),
        _a("FER", "Ферритин", "нг/мл", (20, 250), 90, 30, 0, ref_f=(10, 120)),
        _a("PSA", "ПСА общий", "нг/мл", (None, 4.0), 1.2, 0.5, 2),
        _a("USG", "Относительная плотность мочи", "", (1.010, 1.025), 1.018, 0.004, 3),
        _a("UPH", "pH мочи", "", (5.0, 7.0), 6.0, 0.5, 1),
        _a("ULEU", "Лейкоциты в моче", "в п/зр", (None, 5), 2, 1.2, 0),
    ]
}


@dataclass(frozen=True)
class PanelDef:
    key: str
    name: str
    title: str
    codes: list[str]
    material: str = "венозная кровь"
    text_results: list[tuple[str, str, str]] = field(default_factory=list)  # code, name, value


PANELS: dict[str, PanelDef] = {
    p.key: p
    for p in [
        PanelDef(
            "cbc",
            "Общий анализ крови",
            "Общий (клинический) анализ крови",
            ["HGB", "RBC", "HCT", "WBC", "NEUT", "LYMPH", "PLT", "ESR"],
        ),
        PanelDef(
            "bio",
            "Биохимия крови",
            "Биохимический анализ крови",
            ["GLU", "CREA", "UREA", "ALT", "AST", "TBIL"],
        ),
        PanelDef("lipid", "Липидный профиль", "Липидограмма", ["CHOL", "LDL", "HDL", "TG"]),
        PanelDef(
            "hba1c", "Углеводный обмен", "Гликированный гемоглобин и глюкоза", ["HBA1C", "GLU"]
        ),
        PanelDef("thyroid", "Гормоны щитовидной железы", "ТТГ, Т4 свободный", ["TSH", "FT4"]),
        PanelDef("ferritin", "Обмен железа", "Ферритин", ["FER"]),
        PanelDef("psa", "Онкомаркеры", "ПСА общий", ["PSA"]),
        PanelDef(
            "urine",
            "Общий анализ мочи",
            "Общий анализ мочи",
            ["USG", "UPH", "ULEU"],
            material="моча (утренняя порция)",
            text_results=[
                ("UCOL", "Цвет", "соломенно-жёлтый"),
                ("UPRO", "Белок", "не обнаружен"),
                ("UGLUQ", "Глюкоза", "не обнаружена"),
            ],
        ),
    ]
}


def flag_for(value: float, low: float | None, high: float | None) -> AnalyteFlag:
    if low is not None and value < low:
        return AnalyteFlag.LOW
    if high is not None and value > high:
        return AnalyteFlag.HIGH
    return AnalyteFlag.NORMAL


INTERPRETATION = {
    AnalyteFlag.LOW: "Ниже референсного интервала",
    AnalyteFlag.HIGH: "Выше референсного интервала",
}


@dataclass(frozen=True)
class Measured:
    code: str
    name: str
    value: float | None
    text_value: str | None
    unit: str | None
    ref_low: float | None
    ref_high: float | None
    flag: AnalyteFlag | None


# Paediatric reference ranges (school age) where they differ from adults'.
CHILD_REFS: dict[str, tuple[float | None, float | None]] = {
    "HGB": (115, 145),
    "RBC": (3.9, 5.3),
    "HCT": (33, 43),
    "NEUT": (35, 65),
    "LYMPH": (28, 50),
    "ESR": (2, 10),
    "CREA": (27, 62),
}


def measure(
    rng: random.Random, code: str, sex: str, mean: float | None = None, *, child: bool = False
) -> Measured:
    """One plausible value: around ``mean`` (the patient's "true" level) with lab noise."""
    a = ANALYTES[code]
    centre = a.mean if mean is None else mean
    if mean is None and a.ref_f != a.ref_m and sex == "F":
        low, high = a.ref_f
        m_low, m_high = a.ref_m
        if None not in (low, high, m_low, m_high):  # women's norms differ (Hb, RBC, HCT...)
            assert low is not None and high is not None and m_low is not None and m_high is not None
            centre = low + (high - low) * (a.mean - m_low) / (m_high - m_low)
    sd = a.sd if mean is None else max(a.sd * 0.35, abs(centre) * 0.03)
    value = max(0.0, rng.gauss(centre, sd))
    if code == "HCT":
        value = max(20.0, value)
    value = round(value, a.decimals)
    if a.decimals == 0:
        value = float(int(value))
    low, high = CHILD_REFS.get(code, a.ref(sex)) if child else a.ref(sex)
    return Measured(
        code, a.name, value, None, a.unit or None, low, high, flag_for(value, low, high)
    )
