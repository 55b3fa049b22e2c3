"""Notification texts as a person reads them (`bot.services.notifications.render`)."""

from __future__ import annotations

from datetime import UTC, datetime

from backend_client.models import Section
from bot.i18n import create_i18n
from bot.services.notifications.render import Renderer, one_full_stop

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def test_a_name_ending_in_an_initial_ends_the_sentence_once() -> None:
    i18n = create_i18n("ru")
    for locale in ("ru", "en"):
        renderer = Renderer(i18n, locale, NOW)
        lab = renderer.result_ready("Анна С.", 3, "e-1", Section.LABS.value)
        document = renderer.result_ready("Анна С.", 3, "e-2", Section.DISCHARGES.value)
        for view in (lab, document):
            assert view.text.endswith("Анна С.") and not view.text.endswith(".."), view.text
        assert renderer.result_ready("Мама", 3, "e-3", None).text.endswith("Мама.")


def test_only_a_doubled_stop_is_taken_away() -> None:
    assert one_full_stop("для Анна С..") == "для Анна С."
    assert one_full_stop("ждём...") == "ждём..."
    assert one_full_stop("Мама.") == "Мама."
