"""Reminders planned from the appointments the backend knows, for everyone who manages them.

Each (recipient, visit, visit time, offset) is one outbox row with a unique key, so planning
again changes nothing. A moved visit has a new time, so new rows; the old ones are skipped
when the move event arrives, and at send time the visit is fetched again: cancelled or moved
means no reminder.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    NotFound,
    RateLimited,
)
from backend_client.models import Appointment
from backend_client.protocol import RecordsBackend
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.db.models import LinkedPerson, User
from bot.keys import AppKeys
from bot.logs import log_event
from bot.services.notifications.kinds import URGENT_REMINDER_MINUTES, Kind, Priority
from bot.services.notifications.outbox import NewMessage, enqueue
from bot.services.notifications.quiet_hours import reminder_send_time
from bot.services.notifications.settings import Prefs, load_prefs
from bot.services.people import is_current

logger = logging.getLogger(__name__)

AWAY_AFTER = 3
"""Cards in a row the backend was unavailable for: then it is away, not one card's trouble."""
LATE_GRACE = timedelta(minutes=10)
"""A reminder whose time passed this recently still goes out (planning runs every few min)."""


def _send_time(prefs: Prefs, due: datetime, now: datetime) -> datetime:
    """Before the quiet hours if the reminder falls in them; when that moment has passed (a
    visit booked late in the evening), now if the quiet hours have not begun yet, else at the
    reminder's own time: never a reminder in the middle of the night just after booking."""
    moved = reminder_send_time(prefs.quiet, due)
    if moved >= now:
        return moved
    if not prefs.quiet.contains(now):
        return now
    return max(due, now)


def reminder_messages(
    user_id: int, person_id: int, visit: Appointment, prefs: Prefs, now: datetime
) -> list[NewMessage]:
    """The rows for one visit and one recipient (none when reminders are switched off)."""
    if not prefs.reminders or not visit.is_active or visit.starts_at <= now:
        return []
    at = int(visit.starts_at.timestamp())
    messages = []
    for offset in prefs.offsets:
        due = visit.starts_at - timedelta(minutes=offset)
        if due < now - LATE_GRACE:
            continue
        send_at = _send_time(prefs, due, now)
        urgent = offset <= URGENT_REMINDER_MINUTES
        messages.append(
            NewMessage(
                user_id=user_id,
                kind=Kind.REMINDER,
                dedup_key=f"rem:{user_id}:{visit.appointment_id}:{at}:{offset}",
                person_id=person_id,
                subject=visit.appointment_id,
                payload={"appointment_id": visit.appointment_id, "at": at, "offset": offset},
                priority=Priority.URGENT if urgent else Priority.NORMAL,
                not_before=send_at,
            )
        )
    return messages


async def _people_by_grant(session: AsyncSession, now: datetime) -> list[tuple[LinkedPerson, User]]:
    rows = await session.execute(
        select(LinkedPerson, User)
        .join(User, User.id == LinkedPerson.user_id)
        .where(User.blocked_at.is_(None))
        .order_by(LinkedPerson.id)
    )
    return [(p, u) for p, u in rows.all() if is_current(p, now) and u.has_consent]


async def plan_reminders(
    sessionmaker: SessionMaker, backend: RecordsBackend, keys: AppKeys, *, now: datetime
) -> int:
    """One pass over every managed card (every scope includes appointments), planned at `now`.

    The backend being away (a few cards in a row unavailable) ends the pass: what was planned
    is kept and the error raised, so the worker backs off and plans again (rows have unique
    keys); asking once per card meanwhile would only wait out a timeout each."""
    async with sessionmaker() as session:
        links = await _people_by_grant(session, now)
        prefs_of: dict[int, Prefs] = {}
        for _, user in links:
            if user.id not in prefs_of:
                prefs_of[user.id] = await load_prefs(session, user.id)
    planned: dict[int, list[NewMessage]] = defaultdict(list)
    failures = 0
    away: BackendError | None = None
    in_a_row = 0
    for person, user in links:
        prefs = prefs_of[user.id]
        if not prefs.reminders:
            continue
        requester_id = requester_id_for(keys, user.messenger_key)
        try:
            visits = await backend.list_appointments(person.grant_id, requester_id, upcoming=True)
        except (AccessDenied, NotFound):
            continue  # the link is gone; the people feature drops the row
        except (BackendUnavailable, RateLimited) as error:
            failures += 1
            in_a_row += 1
            if in_a_row >= AWAY_AFTER:
                away = error
                break
            continue
        except BackendError:
            failures += 1
            continue
        in_a_row = 0
        for visit in visits:
            planned[user.id].extend(reminder_messages(user.id, person.id, visit, prefs, now))
    created = 0
    async with sessionmaker() as session:
        for messages in planned.values():
            created += await enqueue(session, messages, now)
        await session.commit()
    if away is not None:
        raise away  # the worker's outage line says it; no line per retry here
    log_event(logger, "notify.planned", links=len(links), reminders=created, failures=failures)
    return created
