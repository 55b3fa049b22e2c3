"""The send-time check: may this user still be told this, now, and in which words?

Everything is looked up again: the user (blocked, consent), their settings and quiet hours,
the link to the person (theirs, current, scope) and the backend grant, and for visits the
visit itself (a cancelled or moved visit gets no reminder).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    NotFound,
    RateLimited,
)
from backend_client.models import Appointment, AppointmentStatus, Requester, Scope
from backend_client.protocol import RecordsBackend
from bot.crypto import FieldCipher, requester_id_for
from bot.db.appointments_models import WatchHit
from bot.db.models import LinkedPerson, User
from bot.keys import AppKeys
from bot.services.linking import PURPOSE_LABEL
from bot.services.notifications.decisions import Decision, Defer, Send, Skip
from bot.services.notifications.kinds import SCOPE_OF, Kind, Priority
from bot.services.notifications.outbox import ClaimedMessage
from bot.services.notifications.render import Catalog, NotificationView, Renderer
from bot.services.notifications.settings import QUIET_HOURS, load_prefs
from bot.services.people import is_current


@dataclass(frozen=True, slots=True)
class SendContext:
    backend: RecordsBackend
    keys: AppKeys
    catalog: Catalog
    default_locale: str


@dataclass(frozen=True, slots=True)
class _Link:
    row: LinkedPerson
    label: str
    requester_id: str


async def _link(
    session: AsyncSession, ctx: SendContext, user: User, message: ClaimedMessage, now: datetime
) -> _Link | Skip:
    row = await session.get(LinkedPerson, message.person_id) if message.person_id else None
    if row is None or row.user_id != user.id:
        return Skip("link_gone")
    if not is_current(row, now) or not Scope(row.scope).allows(SCOPE_OF[Kind(message.kind)]):
        return Skip("no_access")
    requester_id = requester_id_for(ctx.keys, user.messenger_key)
    try:
        grant = await ctx.backend.get_grant(
            row.grant_id, Requester(id=requester_id, display_name="-")
        )
    except (AccessDenied, NotFound):
        return Skip("grant_gone")
    if not grant.is_active(now) or not grant.allows(SCOPE_OF[Kind(message.kind)]):
        return Skip("grant_gone")
    label = FieldCipher(ctx.keys).decrypt(row.label_enc, purpose=PURPOSE_LABEL)
    return _Link(row, label, requester_id)


async def _visit(ctx: SendContext, link: _Link, appointment_id: str) -> Appointment | Skip:
    try:
        return await ctx.backend.get_appointment(
            link.row.grant_id, link.requester_id, appointment_id
        )
    except (AccessDenied, NotFound):
        return Skip("visit_gone")


def _is_urgent(message: ClaimedMessage) -> bool:
    return message.priority == Priority.URGENT


def _answers_a_request(message: ClaimedMessage) -> bool:
    """A visit a watch booked for the user: their own booking's confirmation, not news, so no
    switch holds it back (they would first learn of the visit from its reminder)."""
    return message.kind == Kind.SLOT_FOUND and bool(message.payload.get("booked"))


async def prepare(
    session: AsyncSession, ctx: SendContext, message: ClaimedMessage, now: datetime
) -> Decision:
    """Send, skip or defer `message` at `now` (the one clock's reading, taken by the caller)."""
    user = await session.get(User, message.user_id)
    if user is None or not user.has_consent:
        return Skip("no_consent")
    if user.blocked_at is not None:
        return Skip("blocked")
    kind = Kind(message.kind)
    if kind is Kind.ACCESS_ENDED:
        return await _access_ended(session, ctx, user, message, now)
    prefs = await load_prefs(session, user.id)
    if not prefs.allows(kind) and not _answers_a_request(message):
        return Skip("switched_off")
    if kind is Kind.REMINDER and message.payload.get("offset") not in prefs.offsets:
        return Skip("offset_removed")
    if not _is_urgent(message) and prefs.quiet.contains(now):
        return Defer(prefs.quiet.end_after(now), QUIET_HOURS)
    renderer = Renderer(ctx.catalog, user.language or ctx.default_locale, now)
    try:
        view = await _render(session, ctx, renderer, user, message, kind, now)
    except (BackendUnavailable, RateLimited):
        # The backend is away, not this message's fault: it waits, however long that takes.
        return Defer(None, "backend", failed=True, outage=True)
    except BackendError:
        return Defer(None, "backend", failed=True)
    if isinstance(view, Skip):
        return view
    return Send(user.telegram_id, view, user.channel)


async def _access_ended(
    session: AsyncSession, ctx: SendContext, user: User, message: ClaimedMessage, now: datetime
) -> Decision:
    """Told even in quiet hours and with every switch off: it is about who may see a card."""
    row = await session.get(LinkedPerson, message.person_id) if message.person_id else None
    if row is None or row.user_id != user.id:
        return Skip("link_gone")  # deleted since (/forget, unlinked): nothing to tell
    label = FieldCipher(ctx.keys).decrypt(row.label_enc, purpose=PURPOSE_LABEL)
    renderer = Renderer(ctx.catalog, user.language or ctx.default_locale, now)
    return Send(user.telegram_id, renderer.access_ended(label), user.channel)


async def _render(
    session: AsyncSession,
    ctx: SendContext,
    renderer: Renderer,
    user: User,
    message: ClaimedMessage,
    kind: Kind,
    now: datetime,
) -> NotificationView | Skip:
    payload = message.payload
    link = await _link(session, ctx, user, message, now)
    if isinstance(link, Skip):
        return link
    person_id = link.row.id
    if kind is Kind.SLOT_FOUND:
        hit = await session.get(WatchHit, int(payload["hit_id"]))
        if hit is None or hit.starts_at <= now:
            return Skip("hit_gone")
        booked = hit.appointment_id is not None
        return renderer.slot_found(link.label, person_id, hit.id, hit.starts_at, booked)
    if kind is Kind.RESULT_READY:
        return renderer.result_ready(
            link.label, person_id, str(payload["entry_id"]), payload.get("section")
        )
    visit = await _visit(ctx, link, str(payload["appointment_id"]))
    if isinstance(visit, Skip):
        return visit
    if kind is Kind.REMINDER:
        if not visit.is_active or int(visit.starts_at.timestamp()) != payload.get("at"):
            return Skip("visit_changed")
        if visit.starts_at <= now:
            return Skip("too_late")
        return renderer.reminder(link.label, person_id, visit.appointment_id, visit.starts_at)
    if kind is Kind.VISIT_MOVED:
        if not visit.is_active:
            return Skip("visit_changed")  # cancelled since: that news comes on its own
        return renderer.visit_moved(
            link.label, person_id, visit.appointment_id, visit.starts_at, visit.previous_starts_at
        )
    if visit.status is not AppointmentStatus.CANCELLED_BY_CLINIC:
        return Skip("visit_changed")
    return renderer.visit_cancelled(link.label, person_id, visit.appointment_id, visit.starts_at)
