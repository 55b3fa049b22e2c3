"""Names of the files the bot sends: what and whose, in safe ASCII (`EMK_Ivanova_A_2026-12-03.pdf`).

Telegram and phones show the name as it is and save under it: Cyrillic is transliterated
(the passport table, as ICAO 9303), anything but letters, digits and hyphens becomes `_`, and
digits are dropped from the person's part so a policy number typed into a name never shows.
"""

from __future__ import annotations

import re

_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o",
            "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "ie", "y", "", "e",
            "iu", "ia",
        ],
        strict=True,
    )
)  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")


def translit(text: str) -> str:
    """`text` in Latin letters, words joined by `_`: "Галина К." → "Galina_K"."""
    out: list[str] = []
    for char in text:
        low = char.lower()
        latin = _CYRILLIC.get(low)
        if latin is None:
            out.append(char if char.isascii() else " ")
        else:
            out.append(latin.capitalize() if char != low else latin)
    return _UNSAFE.sub("_", "".join(out)).strip("_-")


def file_name(what: str, whose: str, day: str, extension: str) -> str:
    """`What_Whose_day.extension`; empty parts are left out."""
    who = translit(re.sub(r"\d+", " ", whose))
    parts = [part for part in (translit(what), who, day) if part]
    return "_".join(parts) + "." + extension
