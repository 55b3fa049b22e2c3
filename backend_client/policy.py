"""ЕНП (единый номер полиса ОМС) format: 16 digits, the last one a check digit.

The official ФОМС check-digit algorithm could not be confirmed from a public source available to
us, so this module uses a **Luhn (mod 10) check digit** over the first 15 digits. The bot and the
sandbox both validate through ``policy_check_digit_ok`` so they always agree; if the real
algorithm differs, only this module changes (a real backend would simply answer ``NotFound``).
"""

from __future__ import annotations

import re

POLICY_LENGTH = 16
_DIGITS = re.compile(r"\d+")


def normalize_policy(raw: str) -> str:
    """Strip spaces and dashes people type ("7700 1234 5678 9012" -> "7700123456789012")."""
    return re.sub(r"[\s\-]", "", raw)


def luhn_check_digit(body: str) -> int:
    """Luhn check digit for a string of digits (the digit that would be appended)."""
    total = 0
    # Double every second digit from the right of the final number, i.e. from the body's end.
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def policy_check_digit_ok(policy: str) -> bool:
    """True if ``policy`` (already normalised) is 16 digits with a valid check digit."""
    if len(policy) != POLICY_LENGTH or not _DIGITS.fullmatch(policy):
        return False
    return luhn_check_digit(policy[:-1]) == int(policy[-1])


def make_policy(body15: str) -> str:
    """Append the check digit to 15 digits (used by the sandbox seed)."""
    if len(body15) != POLICY_LENGTH - 1 or not _DIGITS.fullmatch(body15):
        raise ValueError("need 15 digits")
    return body15 + str(luhn_check_digit(body15))
