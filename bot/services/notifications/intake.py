"""Backend events in, outbox rows out: one row per (event, recipient), in the same transaction
that records the event as processed (and, for the feed, advances the cursor).

The same event arriving twice (feed and push, or two workers) finds its id in
`notification_events` or the outbox's unique `dedup_key`, and adds nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Event, EventKind
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.crypto import FieldCipher
from bot.db.engine import SessionMaker
from bot.db.notifications_models import EventCursor, ProcessedEvent
from bot.logs import log_event
from bot.services.notifications.kinds import SCOPE_OF, Kind, Priority
from bot.services.notifications.outbox import NewMessage, enqueue, skip_pending_for_subject
from bot.services.notifications.recipients import recipients_for
from bot.services.people import end_links_of_grant

logger = logging.getLogger(__name__)

FEED_CURSOR = "backend-feed"
FEED_BATCH = 200

_KIND_OF_EVENT: dict[EventKind, tuple[Kind, Priority]] = {
    EventKind.RESULT_READY: (Kind.RESULT_READY, Priority.NORMAL),
    EventKind.APPOINTMENT_MOVED: (Kind.VISIT_MOVED, Priority.URGENT),
    EventKind.APPOINTMENT_CANCELLED: (Kind.VISIT_CANCELLED, Priority.URGENT),
}


async def _mark_processed(session: AsyncSession, event_id: str, now: datetime) -> bool:
    """Record the event id; False if it was already there (nothing more to do)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedEvent)
        .values(event_id=event_id, processed_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(ProcessedEvent.event_id)
    )
    return result.first() is not None


def _subject_and_payload(event: Event, kind: Kind) -> tuple[str | None, dict[str, str]]:
    if kind is Kind.RESULT_READY:
        payload = {"entry_id": event.entry_id or ""}
        if event.section is not None:
            payload["section"] = event.section.value
        return event.entry_id, payload
    return event.appointment_id, {"appointment_id": event.appointment_id or ""}


async def ingest_event(
    session: AsyncSession, cipher: FieldCipher, event: Event, now: datetime
) -> int:
    """Turn one event into outbox rows (none if seen before or not for users); returns how many.

    Runs inside the caller's transaction; the caller commits. `now` is the one clock's."""
    if not await _mark_processed(session, event.event_id, now):
        return 0
    if event.kind is EventKind.ACCESS_REVOKED and event.grant_id:
        return await _access_ended(session, event, event.grant_id, now)
    mapped = _KIND_OF_EVENT.get(event.kind)
    if mapped is None or event.patient_id is None:
        return 0  # slot_freed feeds the slot-watch poller; access events the policies feature
    kind, priority = mapped
    subject, payload = _subject_and_payload(event, kind)
    if kind is Kind.VISIT_CANCELLED and subject:
        # Its reminders go with it. (A moved visit's old-time reminders are dropped at send
        # time, when the visit's current time no longer matches; the new time gets new ones.)
        await skip_pending_for_subject(session, Kind.REMINDER, subject, "visit_cancelled", now)
    recipients = await recipients_for(session, cipher, event.patient_id, SCOPE_OF[kind], now)
    messages = [
        NewMessage(
            user_id=r.user_id,
            kind=kind,
            dedup_key=f"ev:{event.event_id}:{r.user_id}",
            person_id=r.person_id,
            subject=subject,
            payload=payload,
            priority=priority,
        )
        for r in recipients
    ]
    return await enqueue(session, messages, now)


async def _access_ended(session: AsyncSession, event: Event, grant_id: str, now: datetime) -> int:
    """Whoever acted on the card through the revoked grant: their row ends now (no picker
    offers it), and they are told — not at their next tap."""
    ended = await end_links_of_grant(session, grant_id, now)
    messages = [
        NewMessage(
            user_id=row.user_id,
            kind=Kind.ACCESS_ENDED,
            dedup_key=f"ev:{event.event_id}:{row.user_id}",
            person_id=row.id,
            subject=grant_id,
            payload={},
            priority=Priority.URGENT,
        )
        for row in ended
    ]
    return await enqueue(session, messages, now)


async def ingest_events(
    session: AsyncSession, cipher: FieldCipher, events: list[Event], now: datetime
) -> int:
    total = 0
    for event in events:
        total += await ingest_event(session, cipher, event, now)
    return total


async def follow_feed_once(
    sessionmaker: SessionMaker, backend: RecordsBackend, cipher: FieldCipher, clock: Clock
) -> int:
    """Read one batch after the stored cursor; rows and the new cursor commit together.

    The cursor row is locked (PostgreSQL) so two workers never read the same batch at once;
    if they somehow did, dedup keeps the result the same."""
    now = clock()
    async with sessionmaker() as session:
        cursor_row = await session.scalar(
            select(EventCursor).where(EventCursor.name == FEED_CURSOR).with_for_update()
        )
        if cursor_row is None:
            # From the start of the durable feed; a second worker racing here inserts nothing.
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            await session.execute(
                insert(EventCursor)
                .values(name=FEED_CURSOR, cursor=None, updated_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            await session.commit()
            return 0
        batch = await backend.read_events(after=cursor_row.cursor, limit=FEED_BATCH)
        if not batch.events:
            await session.rollback()
            return 0
        created = await ingest_events(session, cipher, batch.events, now)
        cursor_row.cursor = batch.cursor
        cursor_row.updated_at = now
        await session.commit()
    log_event(logger, "notify.feed", events=len(batch.events), messages=created)
    return len(batch.events)
