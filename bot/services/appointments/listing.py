"""My appointments: upcoming and past visits of one person, and what may still be changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend_client.models import Appointment
from backend_client.protocol import RecordsBackend

PAST_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Visits:
    upcoming: list[Appointment]
    """Active future visits, soonest first."""
    past: list[Appointment]
    """The newest few past or cancelled visits."""


async def visits(
    backend: RecordsBackend, grant_id: str, requester_id: str, *, past_limit: int = PAST_SHOWN
) -> Visits:
    upcoming = await backend.list_appointments(grant_id, requester_id, upcoming=True)
    past = await backend.list_appointments(grant_id, requester_id, upcoming=False)
    # The order is ours to keep whatever a backend sends: the soonest visit first, then the
    # newest of the past (and cancelled) ones first.
    upcoming = sorted(upcoming, key=lambda v: v.starts_at)
    past = sorted(past, key=lambda v: v.starts_at, reverse=True)
    return Visits(upcoming, past[:past_limit])


def changeable(appointment: Appointment, now: datetime) -> bool:
    """Can still be rescheduled or cancelled by the patient."""
    return appointment.is_active and appointment.starts_at > now
