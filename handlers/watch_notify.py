"""Telling a user that their watch found a slot: one rendering function, one default notifier.

`render_slot_found` is what any delivery path calls (the notifications outbox later);
`BotSlotHitNotifier` is the default `SlotHitNotifier` that sends it straight through the Bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import AccessDenied, BackendUnavailable, NotFound
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.crypto import FieldCipher, requester_id_for
from bot.db.appointments_models import SlotWatch, WatchHit
from bot.db.engine import SessionMaker
from bot.db.models import LinkedPerson, User
from bot.keys import AppKeys
from bot.logs import log_event
from bot.services import people as people_service
from bot.services.appointments import booking
from bot.services.appointments.booking import BookingDraft
from handlers.appointment_texts import doctor_lines, when_text, who_line
from keyboards.appointments import hit_keyboard

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SlotFoundMessage:
    chat_id: int
    text: str
    markup: InlineKeyboardMarkup | None


async def render_slot_found(
    session: AsyncSession, backend: RecordsBackend, keys: AppKeys, hit_id: int
) -> SlotFoundMessage | None:
    """The message for a hit in the current gettext locale; None when there is nobody to tell
    (the watch, person or access is gone)."""
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
    requester_id = requester_id_for(keys, user.telegram_id)
    try:
        doctor = await booking.find_doctor(backend, row.grant_id, requester_id, draft)
    except (AccessDenied, NotFound):
        return None
    except BackendUnavailable:
        doctor = None  # the time alone is still worth telling
    booked = hit.appointment_id is not None
    head = (
        _("🔔 <b>Your watch booked a visit</b>")
        if booked
        else _("🔔 <b>A free slot has appeared</b>")
    )
    lines = [head, who_line(label)]
    if doctor is not None:
        lines += doctor_lines(doctor)
    lines.append(_("When: {when}").format(when=when_text(hit.starts_at)))
    if booked:
        lines.append(_("To change or cancel it, open 🗓 My appointments."))
    else:
        lines.append(_("Tap “Book it” to check the details and confirm. The watch goes on."))
    return SlotFoundMessage(user.telegram_id, "\n".join(lines), hit_keyboard(hit.id, booked))


class BotSlotHitNotifier:
    """Sends the slot-found message directly; implements `watches.SlotHitNotifier`."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: SessionMaker,
        backend: RecordsBackend,
        keys: AppKeys,
        i18n: I18n,
        clock: Clock,
    ) -> None:
        self.bot, self.sessionmaker, self.backend = bot, sessionmaker, backend
        self.keys, self.i18n, self.clock = keys, i18n, clock

    async def slot_found(self, user_id: int, hit_id: int) -> None:
        async with self.sessionmaker() as session:
            user = await session.get(User, user_id)
            if user is None or not user.has_consent or user.blocked_at is not None:
                return
            locale = user.language or self.i18n.default_locale
            with self.i18n.context(), self.i18n.use_locale(locale):
                message = await render_slot_found(session, self.backend, self.keys, hit_id)
            if message is None:
                return
            try:
                await self.bot.send_message(
                    message.chat_id,
                    message.text,
                    reply_markup=message.markup,
                    protect_content=True,
                )
            except TelegramForbiddenError:
                user.blocked_at = self.clock()  # they blocked the bot: stop trying
                await session.commit()
                log_event(logger, "watch.user_blocked", logging.INFO)
