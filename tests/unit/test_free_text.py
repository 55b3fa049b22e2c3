"""Free words a tired person types instead of pressing (issue 14, 7): each is understood as
help or as a specialty, in Russian and English; anything else stays "not understood"."""

from __future__ import annotations

import pytest

from bot.flows.free_text import Help, Specialty, understand


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("хочу к окулисту на завтра", Specialty("ophthalmologist")),
        ("Глазной врач", Specialty("ophthalmologist")),
        ("мне к лору", Specialty("ent")),
        ("болит зуб", Specialty("dentist")),
        ("записаться к терапевту", Specialty("therapist")),
        ("eye doctor tomorrow", Specialty("ophthalmologist")),
        ("I need a GP", Specialty("therapist")),
        ("помогите не могу войти", Help()),
        ("Help!", Help()),
        ("не получается привязать полис", Help()),
    ],
)
def test_what_people_type_is_understood(text: str, meant: object) -> None:
    assert understand(text) == meant


@pytest.mark.parametrize("text", ["", "   ", "спасибо", "Иванова", "колорит", "gpx", "зубр"])
def test_anything_else_is_not_guessed(text: str) -> None:
    assert understand(text) is None
