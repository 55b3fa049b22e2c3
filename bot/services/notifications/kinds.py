"""What the bot notifies about, how urgent each kind is, and which scope it needs."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from backend_client.models import Scope


class Kind(StrEnum):
    RESULT_READY = "result_ready"
    REMINDER = "reminder"
    VISIT_MOVED = "visit_moved"
    VISIT_CANCELLED = "visit_cancelled"
    SLOT_FOUND = "slot_found"
    # Someone's access to a card they act on ended (its owner revoked it): always told, no
    # switch holds it back, and the card stops being offered at once.
    ACCESS_ENDED = "access_ended"


class Priority(IntEnum):
    """Lower is sooner: urgent rows overtake bulk ones in the claim order."""

    URGENT = 0
    NORMAL = 1


class Switch(StrEnum):
    """The per-user on/off switches (columns of `NotificationPrefs`)."""

    RESULTS = "results"
    REMINDERS = "reminders"
    CHANGES = "changes"
    SLOTS = "slots"


SWITCH_OF: dict[Kind, Switch] = {
    Kind.RESULT_READY: Switch.RESULTS,
    Kind.REMINDER: Switch.REMINDERS,
    Kind.VISIT_MOVED: Switch.CHANGES,
    Kind.VISIT_CANCELLED: Switch.CHANGES,
    Kind.SLOT_FOUND: Switch.SLOTS,
}

SCOPE_OF: dict[Kind, Scope] = {
    Kind.RESULT_READY: Scope.RECORDS,
    Kind.REMINDER: Scope.APPOINTMENTS,
    Kind.VISIT_MOVED: Scope.APPOINTMENTS,
    Kind.VISIT_CANCELLED: Scope.APPOINTMENTS,
    Kind.SLOT_FOUND: Scope.APPOINTMENTS,
}

URGENT_REMINDER_MINUTES = 180
"""A reminder this close to the visit is urgent: it overtakes bulk sends and ignores quiet
hours (it was already moved out of them when planned, if there was time)."""
