"""The message that tells a user their watch found a slot (or booked one), channel-neutral:
any delivery path renders it in the user's language and sends it to the user's chat."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import AccessDenied, BackendUnavailable, NotFound
from backend_client.protocol import RecordsBackend
from bot.crypto import FieldCipher, requester_id_for
from bot.db.appointments_models import SlotWatch, WatchHit
from bot.db.models import LinkedPerson, User
from bot.flows.appointment_texts import Tr, doctor_lines, when_text, who_line
from bot.flows.screens import Screen
from bot.flows.watches_screens import hit_rows
from bot.keys import AppKeys
from bot.services import people as people_service
from bot.services.appointments import booking
from bot.services.appointments.booking import BookingDraft


@dataclass(frozen=True, slots=True)
class SlotFound:
    user: User  # whose chat it goes to (each messenger knows its own chat id)
    screen: Screen


async def slot_found(
    t: Tr, session: AsyncSession, backend: RecordsBackend, keys: AppKeys, hit_id: int
) -> SlotFound | None:
    """The message for a hit; None when there is nobody to tell (the watch, person or access
    is gone). Protected: it names the patient, the doctor and the time."""
    hit = await session.get(WatchHit, hit_id)
    watch = await session.get(SlotWatch, hit.watch_id) if hit is not None else None
    user = await session.get(User, watch.user_id) if watch is not None else None
    row = await session.get(LinkedPerson, watch.person_id) if watch is not None else None
    if hit is None or watch is None or user is None or row is None or row.user_id != user.id:
        return None
    label = people_service.to_person(FieldCipher(keys), row).label
    draft = BookingDraft(
        person_id=row.id,
        specialty_code=None if watch.referral_id else watch.specialty_code,
        referral_id=watch.referral_id,
        doctor_id=hit.doctor_id,
    )
    requester_id = requester_id_for(keys, user.messenger_key)
    try:
        doctor = await booking.find_doctor(backend, row.grant_id, requester_id, draft)
    except (AccessDenied, NotFound):
        return None
    except BackendUnavailable:
        doctor = None  # the time alone is still worth telling
    _ = t.gettext
    booked = hit.appointment_id is not None
    head = (
        _("🔔 <b>Your watch booked a visit</b>")
        if booked
        else _("🔔 <b>A free slot has appeared</b>")
    )
    lines = [head, who_line(t, label)]
    if doctor is not None:
        lines += doctor_lines(t, doctor)
    lines.append(_("When: {when}").format(when=when_text(t, hit.starts_at)))
    if booked:
        lines.append(_("To change or cancel it, open 🗓 My appointments."))
    else:
        lines.append(_("Tap “Book it” to check the details and confirm. The watch goes on."))
    screen = Screen("\n".join(lines), hit_rows(t, hit.id, booked), protect=True)
    return SlotFound(user, screen)
