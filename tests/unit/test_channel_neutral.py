"""The channel-neutral core imports no messenger library: flows and services run, and are
tested, without aiogram or maxapi, so a second front end renders the same conversations."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.flows.screens import MAX_ACTION_BYTES, Button, Placement, Screen, column

ROOT = Path(__file__).resolve().parents[2]
NEUTRAL = ("bot/flows", "bot/services", "backend_client")
MESSENGERS = ("aiogram", "maxapi")


def messenger_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        found += [f"{node.lineno}: {n}" for n in names if n.split(".")[0] in MESSENGERS]
    return found


def test_the_neutral_core_imports_no_messenger_library() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for package in NEUTRAL
        for path in sorted((ROOT / package).rglob("*.py"))
        if (found := messenger_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_scan_sees_both_import_forms() -> None:
    source = "import aiogram.types\nfrom maxapi import Bot\nfrom bot import clock\n"
    assert messenger_imports(source) == ["1: aiogram.types", "2: maxapi"]


def test_a_button_action_fits_every_channel() -> None:
    Button("ok", "x" * MAX_ACTION_BYTES)
    with pytest.raises(ValueError, match="64 bytes"):
        Button("too long", "я" * 33)  # 66 bytes in UTF-8


def test_a_screen_lists_its_buttons_in_reading_order() -> None:
    screen = Screen("Hi", column(Button("a", "1"), Button("b", "2")), Placement.EDIT)
    assert [b.action for b in screen.buttons] == ["1", "2"]
    assert not screen.protect
