"""The appointments feature's `SlotHitNotifier`, backed by the outbox (kind SLOT_FOUND)."""

from __future__ import annotations

from sqlalchemy import select

from bot.clock import Clock
from bot.db.appointments_models import SlotWatch, WatchHit
from bot.db.engine import SessionMaker
from bot.services.notifications.kinds import Kind, Priority
from bot.services.notifications.outbox import NewMessage, enqueue


def slot_found_message(
    user_id: int, person_id: int, hit_id: int, *, booked: bool = False
) -> NewMessage:
    """A free slot is news (the slots switch, quiet hours); a visit the watch booked is the
    answer to the user's own request, like a booking confirmation: urgent and always sent."""
    return NewMessage(
        user_id=user_id,
        kind=Kind.SLOT_FOUND,
        dedup_key=f"slot:{hit_id}:{user_id}",
        person_id=person_id,
        subject=str(hit_id),
        payload={"hit_id": hit_id, "booked": booked},
        priority=Priority.URGENT if booked else Priority.NORMAL,
    )


class OutboxSlotHitNotifier:
    """Queues the message; the delivery loop renders it (with the hit's time) when it sends."""

    def __init__(self, sessionmaker: SessionMaker, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock

    async def slot_found(self, user_id: int, hit_id: int) -> None:
        async with self.sessionmaker() as session:
            found = (
                await session.execute(
                    select(SlotWatch.person_id, WatchHit.appointment_id)
                    .join(WatchHit, WatchHit.watch_id == SlotWatch.id)
                    .where(WatchHit.id == hit_id, SlotWatch.user_id == user_id)
                )
            ).first()
            if found is None:
                return  # the watch is gone (unlinked, /forget): nothing to tell
            person_id, appointment_id = found
            message = slot_found_message(
                user_id, person_id, hit_id, booked=appointment_id is not None
            )
            await enqueue(session, [message], self.clock())
            await session.commit()
