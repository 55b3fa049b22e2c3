"""Trend charts a patient can read (issue 14, defect 6): every point labelled with its value,
the dates on the x axis, round y ticks (never «137.5»), the norm band inside the y range so a
change within the norm is no cliff, points coloured against the patient's own target where
there is one (HbA1c < 7 %) and else the lab norm, and the title in the reader's language."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest

from backend_client.models import AnalyteHistory, AnalytePoint, Section
from bot.db.engine import SessionMaker
from bot.flows import records as flow
from bot.flows.context import FlowContext
from bot.flows.records_screens import chart_labels
from bot.services.records.chart import (
    ChartLabels,
    Target,
    draw_trend,
    patient_target,
    png_size,
)
from bot.services.records.periods import Period
from tests.unit.flow_context import DictMemory
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.test_record_files import daughter, mum

__all__ = ["backend", "chat_for", "clock", "daughter", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

LABELS = ChartLabels("Glycated haemoglobin (HbA1c)", "Reference range", "Your target")


def history(code: str, values: list[float], low: float | None, high: float | None) -> Any:
    points = [
        AnalytePoint(date=date(2025, 1 + 3 * i, 15), value=v, flag=None, entry_id=f"e{i}")
        for i, v in enumerate(values)
    ]
    unit = "%" if code == "HBA1C" else "г/л"
    return AnalyteHistory(
        code=code, name="Гликированный гемоглобин (HbA1c)", unit=unit, ref_low=low,
        ref_high=high, points=points,
    )  # fmt: skip


def test_every_point_carries_its_value_and_its_date() -> None:
    hba1c = history("HBA1C", [7.4, 7.1, 6.8, 6.9], 4.0, 6.0)
    drawn = draw_trend(hba1c, LABELS, "ru")
    assert drawn.point_labels == ["7,4", "7,1", "6,8", "6,9"]
    assert len(drawn.x_labels) == 4 and all("2025" in x for x in drawn.x_labels)
    assert png_size(drawn.png) == (1080, 720)
    english = draw_trend(hba1c, LABELS, "en")
    assert english.point_labels == ["7.4", "7.1", "6.8", "6.9"]
    assert "Jan" in english.x_labels[0]


def test_y_ticks_are_round_and_a_drop_inside_the_norm_is_no_cliff() -> None:
    hgb = history("HGB", [142, 141, 136, 138], 130, 160)
    drawn = draw_trend(hgb, LABELS, "en")
    assert drawn.y_labels and all(label.isdigit() for label in drawn.y_labels), drawn.y_labels
    assert all(int(label) % 5 == 0 for label in drawn.y_labels)
    bottom, top = drawn.y_limits
    # The whole norm band is on the chart: 142 → 136 is a small step inside it.
    assert bottom <= 130 and top >= 160
    assert (142 - 136) / (top - bottom) < 0.25
    assert drawn.outside == [False, False, False, False]


def test_points_are_judged_by_the_patients_target_where_there_is_one() -> None:
    hba1c = history("HBA1C", [6.9, 6.6, 6.8, 7.3], 4.0, 6.0)
    by_norm = draw_trend(hba1c, LABELS, "en")
    assert by_norm.outside == [True, True, True, True]  # the lab norm: 4–6 %
    by_target = draw_trend(hba1c, LABELS, "en", Target(None, 7.0))
    assert by_target.outside == [False, False, False, True]  # the patient's own: < 7 %
    assert "Your target < 7 %" in by_target.legend
    bottom, top = by_target.y_limits
    assert bottom <= 4.0 and top >= 7.3


def test_the_target_is_read_where_the_backend_gives_one() -> None:
    class WithTarget:
        target_low = None
        target_high = 7.0

    assert patient_target(WithTarget()) == Target(None, 7.0)
    assert patient_target(history("HBA1C", [7.0, 7.1], 4.0, 6.0)) is None


class _English:
    locale = "en"

    def gettext(self, msgid: str) -> str:
        return msgid


def test_the_title_is_in_the_readers_language() -> None:
    hba1c = history("HBA1C", [7.4, 7.1], 4.0, 6.0)
    english = cast(FlowContext, _English())  # chart_labels reads only gettext
    labels = chart_labels(english, hba1c)
    assert labels.title == "Glycated haemoglobin (HbA1c)"
    drawn = draw_trend(hba1c, labels, "en")
    assert drawn.title == "Glycated haemoglobin (HbA1c), %"
    unknown = hba1c.model_copy(update={"code": "XYZ", "name": "Что-то новое"})
    assert chart_labels(english, unknown).title == "Что-то новое"  # the backend's, if unknown
    assert draw_trend(history("HGB", [140, 141], 130, 160), labels, "en").title.endswith("g/L")


async def test_the_english_trend_screen_names_the_analyte_in_english(
    daughter: FlowContext, sessionmaker: SessionMaker
) -> None:
    person = await mum(sessionmaker)
    [chart] = await flow.trend(daughter, DictMemory(), person, "HBA1C", "")
    assert chart.text.startswith("📈 Glycated haemoglobin (HbA1c): ") and chart.protect


def test_a_long_history_labels_values_evenly_without_hiding_the_line() -> None:
    values = [9.4, 8.7, 9.0, 8.7, 8.3, 8.0] + [7.0 + (i % 5) * 0.2 for i in range(21)]
    long = history("HBA1C", [7.0, 7.1], 4.0, 6.0).model_copy(
        update={
            "points": [
                AnalytePoint(
                    date=date(2023 + i // 12, i % 12 + 1, 1), value=v, flag=None, entry_id="e"
                )
                for i, v in enumerate(values)
            ]
        }
    )
    drawn = draw_trend(long, LABELS, "en")
    assert 8 <= len(drawn.point_labels) <= 14
    assert drawn.point_labels[0] == "9.4" and drawn.point_labels[-1] == "7"
    assert 3 <= len(drawn.x_labels) <= 6 and all(x[-4:].isdigit() for x in drawn.x_labels)


async def test_the_english_document_offers_trends_by_english_names(
    daughter: FlowContext, sessionmaker: SessionMaker
) -> None:
    person = await mum(sessionmaker)
    memory = DictMemory()
    [listed] = await flow.show_list(daughter, memory, person, Section.LABS, Period.ALL, 0, 0)
    trends: list[str] = []
    for entry in [b.action for b in listed.buttons if b.action.startswith("rd:o:")]:
        document = await flow.open_document(daughter, memory, person, entry.rsplit(":", 1)[-1])
        trends += [b.text for b in document[-1].buttons if b.text.startswith("📈")]
    assert trends, "no lab document with a trend on the first page"
    for text in trends:
        assert text.startswith("📈 Trend: ")
        assert all(not "а" <= c <= "я" for c in text.lower()), text
