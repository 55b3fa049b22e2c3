"""The card's owner is told what a relative did with their visits: booked, moved or cancelled
for them through the bot (issue 14: "people are not told what others did").

Only a relative's action is news: acting on one's own card tells nobody, and a child's card
has no owner using the bot. The owner hears it on the messenger they use, in their language,
at once (a `Notice` through `FlowContext.tell`); who acted is named as the owner's SMS names
them (`requester_of`), never by a private label.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select

from backend_client.models import Appointment, Relation
from bot.db.models import LinkedPerson, User
from bot.flows.access_texts import esc
from bot.flows.appointment_texts import specialty_name, when_text
from bot.flows.context import FlowContext
from bot.flows.linking_outputs import Notice
from bot.flows.requester import requester_of
from bot.flows.screens import N_, Screen


class VisitNews(StrEnum):
    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"


_TEXTS = {
    VisitNews.BOOKED: N_("ℹ️ {name} booked a visit for you: {specialty}, {when}."),
    VisitNews.MOVED: N_("ℹ️ {name} moved your visit to {specialty}: now {when}."),
    VisitNews.CANCELLED: N_("ℹ️ {name} cancelled your visit to {specialty} on {when}."),
}


async def tell_owner(ctx: FlowContext, person_id: int, news: VisitNews, visit: Appointment) -> None:
    """Tell the owners of the card behind `person_id` (the user's row), if that is not the
    user's own card."""
    row = await ctx.session.get(LinkedPerson, person_id)
    if row is None or row.user_id != ctx.user.id or row.relation == Relation.SELF.value:
        return
    owners = await ctx.session.execute(
        select(User.telegram_id, User.language, User.channel)
        .join(LinkedPerson, LinkedPerson.user_id == User.id)
        .where(
            LinkedPerson.patient_ref_hash == row.patient_ref_hash,
            LinkedPerson.relation == Relation.SELF.value,
            User.id != ctx.user.id,
        )
    )
    told = owners.all()
    if not told:
        return  # the owner does not use the bot: nobody to tell, nothing more to read
    name = (await requester_of(ctx)).display_name
    notices = []
    for recipient, language, channel in told:
        theirs = ctx.in_locale(language or ctx.settings.app.default_locale)
        text = theirs.gettext(_TEXTS[news]).format(
            name=esc(name),
            specialty=esc(specialty_name(theirs, visit.doctor.specialty)),
            when=when_text(theirs, visit.starts_at),
        )
        notices.append(Notice(recipient, Screen(text, protect=True), channel))
    await ctx.tell_all(notices)
