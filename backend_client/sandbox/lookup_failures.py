"""The sandbox's count of wrong (policy, birth date) look-ups (the caps: ``backend_client.lockout``).

A row per failure: a keyed hash of the policy number as typed (never the number), the requester
when the call names one (``find_patient`` does not: it counts against the policy only), and the
time. Rows older than the longest window are deleted as new ones come.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import LookupLocked
from backend_client.lockout import LONGEST_WINDOW, POLICY_CAPS, REQUESTER_CAPS, seconds_locked
from backend_client.sandbox import schema as s

lookup_failures = Table(
    "lookup_failures",
    s.metadata,  # created with the other tables in a new sandbox file
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("policy_key", String(64), nullable=False),  # HMAC-SHA256 hex of the policy
    Column("requester_id", String(64)),
    Column("failed_at", s.UtcEpoch, nullable=False),
    Index("ix_lookup_failures_policy", "policy_key", "failed_at"),
    Index("ix_lookup_failures_requester", "requester_id", "failed_at"),
    Index("ix_lookup_failures_failed_at", "failed_at"),
)


def policy_key(secret: bytes, policy: str) -> str:
    return hmac.new(secret, b"lookup:" + policy.encode(), hashlib.sha256).hexdigest()


async def ensure_table(conn: AsyncConnection) -> None:
    """A sandbox file made before the lock-out existed gets the table on first use."""
    await conn.run_sync(lambda sync: lookup_failures.create(sync, checkfirst=True))


async def check_not_locked(
    conn: AsyncConnection, key: str, requester_id: str | None, now: datetime
) -> None:
    """``LookupLocked`` when the policy's or the requester's caps are full."""
    t = lookup_failures
    since = now - LONGEST_WINDOW
    by_policy = await conn.execute(
        select(t.c.failed_at).where(t.c.policy_key == key, t.c.failed_at > since)
    )
    wait = seconds_locked(by_policy.scalars(), POLICY_CAPS, now)
    if requester_id is not None:
        by_requester = await conn.execute(
            select(t.c.failed_at).where(t.c.requester_id == requester_id, t.c.failed_at > since)
        )
        wait = max(wait, seconds_locked(by_requester.scalars(), REQUESTER_CAPS, now))
    if wait > 0:
        raise LookupLocked(wait)


async def record_failure(
    conn: AsyncConnection, key: str, requester_id: str | None, now: datetime
) -> None:
    t = lookup_failures
    await conn.execute(delete(t).where(t.c.failed_at <= now - LONGEST_WINDOW))
    await conn.execute(insert(t).values(policy_key=key, requester_id=requester_id, failed_at=now))
