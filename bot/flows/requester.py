"""The user as the backend knows them, whichever messenger they write from."""

from __future__ import annotations

from backend_client.models import Requester
from bot.crypto import FieldCipher, requester_id_for
from bot.flows.context import FlowContext
from bot.services import linking_sms
from bot.services import people as people_service


async def requester_of(ctx: FlowContext) -> Requester:
    """A keyed pseudonym and the name the owner's SMS uses: their own linked card's, else
    the messenger's first name marked as unverified."""
    fallback = linking_sms.unverified_requester_name(ctx.first_name, ctx.user.channel)
    cipher = FieldCipher(ctx.keys)
    name = await people_service.requester_name(ctx.session, cipher, ctx.user, fallback, ctx.clock())
    return Requester(id=requester_id_for(ctx.keys, ctx.user.messenger_key), display_name=name)
