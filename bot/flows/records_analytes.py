"""Lab analytes in the reader's language: the backend names them in Russian only, so the
trend chart's title and caption would be Russian on the English screen (issue 14)."""

from __future__ import annotations

from bot.flows.context import FlowContext
from bot.flows.screens import N_

# The backend's analyte codes (`AnalyteResult.code`) in English; Russian as the backend says it.
ANALYTE_NAMES = {
    "HGB": N_("Haemoglobin"),
    "RBC": N_("Red blood cells"),
    "HCT": N_("Haematocrit"),
    "WBC": N_("White blood cells"),
    "NEUT": N_("Neutrophils"),
    "LYMPH": N_("Lymphocytes"),
    "PLT": N_("Platelets"),
    "ESR": N_("ESR"),
    "GLU": N_("Glucose"),
    "CREA": N_("Creatinine"),
    "UREA": N_("Urea"),
    "ALT": N_("ALT"),
    "AST": N_("AST"),
    "TBIL": N_("Total bilirubin"),
    "CHOL": N_("Total cholesterol"),
    "LDL": N_("LDL cholesterol"),
    "HDL": N_("HDL cholesterol"),
    "TG": N_("Triglycerides"),
    "HBA1C": N_("Glycated haemoglobin (HbA1c)"),
    "TSH": N_("TSH"),
    "FT4": N_("Free T4"),
    "FER": N_("Ferritin"),
    "PSA": N_("Total PSA"),
    "USG": N_("Urine specific gravity"),
    "UPH": N_("Urine pH"),
    "ULEU": N_("White blood cells in urine"),
}


def analyte_name(t: FlowContext, code: str, name: str) -> str:
    """The analyte in the reader's language (the backend names it in Russian); an analyte we
    do not know keeps the backend's name."""
    msgid = ANALYTE_NAMES.get(code)
    return t.gettext(msgid) if msgid is not None else name
