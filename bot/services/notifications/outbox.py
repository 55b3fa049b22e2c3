"""The outbox: enqueue without duplicates, claim with a lease, finish exactly one way.

Claims use `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL so any number of workers take
disjoint rows without waiting for each other; on SQLite one UPDATE ... RETURNING under the single
writer lock does the same (a safe path for one worker, and correct with more).
A claimed row whose lease ran out (its worker died) is claimable again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db.notifications_models import OutboxMessage
from bot.services.notifications.kinds import Kind, Priority


class Status:
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    SKIPPED = "skipped"  # no longer due: switched off, access gone, visit changed, blocked
    FAILED = "failed"  # gave up after retries (outcome says why)


@dataclass(frozen=True, slots=True)
class NewMessage:
    user_id: int
    kind: Kind
    dedup_key: str
    person_id: int | None = None
    subject: str | None = None
    payload: dict[str, Any] | None = None
    priority: Priority = Priority.NORMAL
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    id: int
    user_id: int
    kind: str
    person_id: int | None
    subject: str | None
    payload: dict[str, Any]
    priority: int
    attempts: int
    lease_until: datetime
    created_at: datetime | None = None
    """When the row was queued: a row failing only because a dependency is away gives up
    after a day of trying, not after a number of tries (see `delivery.py`)."""


async def enqueue(session: AsyncSession, messages: list[NewMessage], now: datetime) -> int:
    """Insert rows, silently skipping dedup keys already there; returns how many are new.

    `now` (the one clock) stamps `created_at` and is when a row without `not_before` is due."""
    if not messages:
        return 0
    values = [
        {
            "user_id": m.user_id,
            "kind": m.kind.value,
            "dedup_key": m.dedup_key,
            "person_id": m.person_id,
            "subject": m.subject,
            "payload": json.dumps(m.payload or {}, separators=(",", ":")),
            "priority": int(m.priority),
            "status": Status.PENDING,
            "not_before": m.not_before or now,
            "attempts": 0,
            "created_at": now,
        }
        for m in messages
    ]
    bind = session.get_bind()
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    result = await session.execute(statement.returning(OutboxMessage.id))
    return len(result.all())


def _claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == Status.PENDING, OutboxMessage.not_before <= now),
        and_(OutboxMessage.status == Status.CLAIMED, OutboxMessage.lease_until < now),
    )


async def claim(
    session: AsyncSession, worker_id: str, *, now: datetime, limit: int, lease_seconds: float
) -> list[ClaimedMessage]:
    """Take up to `limit` rows due at `now`, urgent first, and commit the lease at once."""
    lease_until = now + timedelta(seconds=lease_seconds)
    due = (
        select(OutboxMessage.id)
        .where(_claimable(now))
        .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock the chosen rows first: in one UPDATE ... IN (subquery) PostgreSQL may run the
        # subquery more than once and take far more than `limit` rows.
        ids = list(await session.scalars(due.with_for_update(skip_locked=True)))
        if not ids:
            await session.rollback()
            return []
        chosen: Any = OutboxMessage.id.in_(ids)
    else:
        # SQLite: one statement under the single writer lock is atomic across processes.
        chosen = OutboxMessage.id.in_(due.scalar_subquery())
    statement = (
        update(OutboxMessage)
        .where(chosen, _claimable(now))
        .values(status=Status.CLAIMED, lease_until=lease_until, claimed_by=worker_id)
        .returning(
            OutboxMessage.id,
            OutboxMessage.user_id,
            OutboxMessage.kind,
            OutboxMessage.person_id,
            OutboxMessage.subject,
            OutboxMessage.payload,
            OutboxMessage.priority,
            OutboxMessage.attempts,
            OutboxMessage.created_at,
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    await session.commit()
    claimed = [
        ClaimedMessage(
            id=r.id,
            user_id=r.user_id,
            kind=r.kind,
            person_id=r.person_id,
            subject=r.subject,
            payload=json.loads(r.payload),
            priority=r.priority,
            attempts=r.attempts,
            lease_until=lease_until,
            created_at=r.created_at,
        )
        for r in rows
    ]
    return sorted(claimed, key=lambda m: (m.priority, m.id))


def _mine(message_id: int, worker_id: str) -> Any:
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.status == Status.CLAIMED,
        OutboxMessage.claimed_by == worker_id,
    )


async def finish(
    session: AsyncSession,
    message_id: int,
    worker_id: str,
    status: str,
    outcome: str | None,
    now: datetime,
) -> bool:
    """Final state (sent, skipped, failed); False if the lease was lost to another worker."""
    result = await session.execute(
        update(OutboxMessage)
        .where(_mine(message_id, worker_id))
        .values(status=status, outcome=outcome, finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def finish_many(
    session: AsyncSession | AsyncConnection,
    message_ids: list[int],
    worker_id: str,
    status: str,
    now: datetime,
) -> None:
    """`finish` for many rows at once (the outcome is the status itself)."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.status == Status.CLAIMED,
            OutboxMessage.claimed_by == worker_id,
        )
        .values(status=status, outcome=status, finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def release(
    session: AsyncSession,
    message_id: int,
    worker_id: str,
    not_before: datetime,
    *,
    failed_attempt: bool = False,
    outcome: str | None = None,
) -> None:
    """Back to pending, due at `not_before` (quiet hours, pacing, 429, a retry)."""
    values: dict[str, Any] = {
        "status": Status.PENDING,
        "not_before": not_before,
        "lease_until": None,
        "claimed_by": None,
    }
    if failed_attempt:
        values["attempts"] = OutboxMessage.attempts + 1
    if outcome is not None:
        values["outcome"] = outcome  # why it waits (quiet hours, a retry's reason)
    await session.execute(
        update(OutboxMessage)
        .where(_mine(message_id, worker_id))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def skip_pending_for_subject(
    session: AsyncSession, kind: Kind, subject: str, outcome: str, now: datetime
) -> None:
    """A cancelled visit takes its not yet sent reminders with it."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.kind == kind.value,
            OutboxMessage.subject == subject,
            OutboxMessage.status == Status.PENDING,
        )
        .values(status=Status.SKIPPED, outcome=outcome, finished_at=now)
        .execution_options(synchronize_session=False)
    )
