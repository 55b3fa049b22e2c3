"""The durable event feed: monotonic sequence numbers, read from a cursor."""

from __future__ import annotations

import json

from sqlalchemy import select

from backend_client.errors import InvalidRequest
from backend_client.models import Event, EventBatch, EventKind, Section, Slot
from backend_client.sandbox import schema as s
from backend_client.sandbox.core import SandboxCore


class EventsMixin(SandboxCore):
    async def read_events(self, after: str | None = None, limit: int = 100) -> EventBatch:
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidRequest("limit")
        start = 0
        if after is not None:
            if not isinstance(after, str) or not after.isdigit() or len(after) > 18:
                raise InvalidRequest("after")
            start = int(after)
        e = s.events
        async with self.tx() as conn:
            rows = (
                await conn.execute(select(e).where(e.c.seq > start).order_by(e.c.seq).limit(limit))
            ).all()
        events = [
            Event(
                event_id=str(r.seq),
                kind=EventKind(r.kind),
                occurred_at=r.occurred_at,
                patient_id=r.patient_id,
                entry_id=r.entry_id,
                section=Section(r.section) if r.section else None,
                appointment_id=r.appointment_id,
                slot=Slot.model_validate(json.loads(r.slot)) if r.slot else None,
                doctor_id=r.doctor_id,
                grant_id=r.grant_id,
            )
            for r in rows
        ]
        cursor = events[-1].event_id if events else after
        return EventBatch(events=events, cursor=cursor)
