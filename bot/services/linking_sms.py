"""The code SMS, seen from the bot: how the owner's SMS names who asks, and the pause between
two SMS (the backend's one-a-minute pause and its hourly and daily caps)."""

from __future__ import annotations

import re
from datetime import datetime

from backend_client.protocol import RESEND_PAUSE_SECONDS

REQUESTER_NAME_MAX = 64
_MESSENGER_NAMES = {"telegram": "Telegram", "max": "MAX"}
_UNVERIFIED_SUFFIX = "» (имя не проверено)"
_QUOTES = re.compile("[\"'`\u00ab\u00bb\u2018-\u201f\u2039\u203a]")


def unverified_requester_name(messenger_name: str, channel: str = "telegram") -> str:
    """How the owner's SMS (and their list of who has access) names a user who has not linked
    their own card: the name they gave themselves in their messenger, marked as such (and the
    messenger named), so that nobody can pass for "Поликлиника". Russian, like every SMS of the
    EMIAS backend; quotes are taken out so the name cannot close the marking early. A user with
    their own card linked is named by that card instead (see
    `bot.services.people.requester_name`)."""
    messenger = _MESSENGER_NAMES.get(channel, channel)
    prefix = f"Пользователь {messenger} «"
    name = " ".join(_QUOTES.sub("", messenger_name).split())
    room = REQUESTER_NAME_MAX - len(prefix) - len(_UNVERIFIED_SUFFIX)
    if len(name) > room:
        name = name[: room - 1].rstrip() + "…"
    if not name:
        return f"Пользователь {messenger} без имени"
    return prefix + name + _UNVERIFIED_SUFFIX


def is_short_pause(retry_after: int) -> bool:
    """A refused send that only has to wait out the one-SMS-a-minute pause (the user keeps the
    answers and sends the code in a moment); longer waits are the hourly and daily caps, which
    end the attempt."""
    return retry_after <= RESEND_PAUSE_SECONDS


def send_after(now: datetime, retry_after: int) -> int:
    """When the code may be sent, as a JSON-safe stamp (whole seconds since the epoch)."""
    return int(now.timestamp()) + retry_after


def seconds_until(stamp: object, now: datetime) -> int:
    """Seconds left until `stamp` (from `send_after`); 0 when it has passed or is unknown."""
    if not isinstance(stamp, int):
        return 0
    return max(0, stamp - int(now.timestamp()))
