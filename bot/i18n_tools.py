"""Catalog chores for `make locales`: fill the source-language catalog, check completeness."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def fill_source(path: Path) -> int:
    """`en` is the source language of the msgids: an empty entry there means the msgid itself."""
    catalog = _read(path)
    filled = 0
    for message in catalog:
        if not message.id or message.string not in ("", ("", "")):
            continue
        message.string = message.id
        filled += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, no_location=True, sort_output=True)
    return filled


def missing(catalog: Catalog) -> list[str]:
    """msgids without a translation (or marked fuzzy) in a catalog."""
    problems: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or any(not s for s in strings):
            problems.append(str(message.id if isinstance(message.id, str) else message.id[0]))
    return problems


def check(locales_dir: Path) -> int:
    bad = 0
    for po in sorted(locales_dir.glob("*/LC_MESSAGES/*.po")):
        for msgid in missing(_read(po)):
            print(f"{po}: untranslated: {msgid[:60]!r}")
            bad += 1
    return bad


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "fill-source":
        print(f"filled {fill_source(Path(argv[1]))} entries")
        return 0
    if len(argv) == 2 and argv[0] == "check":
        return 1 if check(Path(argv[1])) else 0
    print("usage: python -m bot.i18n_tools fill-source PO | check LOCALES_DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
