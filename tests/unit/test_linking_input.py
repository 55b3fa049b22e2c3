from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backend_client.policy import make_policy
from bot.services.linking import (
    AccessTerm,
    BirthDateInputError,
    LabelInputError,
    PolicyInputError,
    parse_birth_date,
    parse_label,
    parse_policy,
    term_expires_at,
)

GOOD = make_policy("770012345678901")
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "typed",
    [
        GOOD,
        f"{GOOD[:4]} {GOOD[4:8]} {GOOD[8:12]} {GOOD[12:]}",
        f"{GOOD[:8]}-{GOOD[8:]}",
        f" {GOOD}\n",
    ],
)
def test_policy_accepts_spaces_and_dashes(typed: str) -> None:
    assert parse_policy(typed) == GOOD


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        (GOOD[:-1], PolicyInputError.LENGTH),
        (GOOD + "0", PolicyInputError.LENGTH),
        ("7700abcd12345678", PolicyInputError.NOT_DIGITS),
        ("", PolicyInputError.NOT_DIGITS),
        ("٧٧٠٠١٢٣٤٥٦٧٨٩٠١٢", PolicyInputError.NOT_DIGITS),  # non-ASCII digits
        (GOOD[:-1] + str((int(GOOD[-1]) + 1) % 10), PolicyInputError.CHECK_DIGIT),
    ],
)
def test_policy_refusals_say_what_is_wrong(typed: str, reason: str) -> None:
    with pytest.raises(PolicyInputError) as caught:
        parse_policy(typed)
    assert caught.value.reason == reason


@pytest.mark.parametrize("typed", ["01.02.1980", "1.2.1980", "1980-02-01", " 01/02/1980 "])
def test_birth_date_formats(typed: str) -> None:
    assert parse_birth_date(typed, TODAY) == date(1980, 2, 1)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("31.02.1980", BirthDateInputError.IMPOSSIBLE),
        ("1980-13-01", BirthDateInputError.IMPOSSIBLE),
        ("24.11.2026", BirthDateInputError.FUTURE),
        ("01.01.1850", BirthDateInputError.TOO_OLD),
        ("first of Feb", BirthDateInputError.FORMAT),
        ("01.02.80", BirthDateInputError.FORMAT),
    ],
)
def test_birth_date_refusals(typed: str, reason: str) -> None:
    with pytest.raises(BirthDateInputError) as caught:
        parse_birth_date(typed, TODAY)
    assert caught.value.reason == reason


def test_today_is_a_valid_birth_date() -> None:
    assert parse_birth_date("23.11.2026", TODAY) == TODAY


def test_label_is_trimmed_and_bounded() -> None:
    assert parse_label("  Мама   Оля ") == "Мама Оля"
    with pytest.raises(LabelInputError):
        parse_label("   ")
    with pytest.raises(LabelInputError):
        parse_label("x" * 41)


def test_terms() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert term_expires_at(AccessTerm.UNLIMITED, now) is None
    month = term_expires_at(AccessTerm.MONTH, now)
    year = term_expires_at(AccessTerm.YEAR, now)
    assert month is not None and year is not None and now < month < year
