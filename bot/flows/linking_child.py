"""Linking a child under 15, channel-neutral: through the parent's own card, without a code;
a "child" who is 15 or older goes on, with the same answers, as a relative's request."""

from __future__ import annotations

from backend_client.errors import AccessDenied, InvalidRequest, LookupLocked, NotFound
from bot.crypto import FieldCipher
from bot.db.models import LinkDraft
from bot.flows.access_texts import esc
from bot.flows.context import FlowContext, Memory
from bot.flows.linking_code import STRIP, linked_screen
from bot.flows.linking_outputs import Reply, reply
from bot.flows.linking_screens import as_relative_rows, scope_screen, with_menu
from bot.flows.linking_steps import ADULT, SCOPE, draft_of, end, lookup_locked, lost, to_policy
from bot.flows.linking_texts import child_refusal_text, too_old_text
from bot.flows.requester import requester_of
from bot.flows.screens import Screen
from bot.services import linking as service
from bot.services import linking_backend
from bot.services import people as people_service
from bot.services.appointments.clock import MOSCOW


async def link_child(ctx: FlowContext, memory: Memory, draft: LinkDraft) -> Reply:
    _ = ctx.gettext
    now = ctx.clock()
    own = await people_service.own_card(ctx.session, ctx.user, now)
    if own is None:
        await end(ctx, memory)
        return reply(with_menu(ctx, _("First link your own policy: My people → My own policy.")))
    cipher = FieldCipher(ctx.keys)
    data = service.read_draft(cipher, draft)
    if not service.child_age_ok(data.birth_date, now.astimezone(MOSCOW).date()):
        return reply(await too_old(ctx, memory))
    existing = await linking_backend.linked_child(ctx.session, cipher, ctx.user, data.policy, now)
    if existing is not None:
        await end(ctx, memory)
        label = people_service.to_person(cipher, existing).label
        said = _("This child is already in My people as “{label}”; nothing was changed.")
        return reply(with_menu(ctx, said.format(label=esc(label))))
    requester = await requester_of(ctx)
    try:
        person = await linking_backend.link_child(
            ctx.session, ctx.backend, cipher, ctx.user, draft, own.grant_id, requester, now
        )
    except LookupLocked as error:
        return await lookup_locked(ctx, memory, error.retry_after, now)
    except (NotFound, InvalidRequest):
        lead = _("No child's card was found with this policy and birth date. Please check both.")
        return reply(await to_policy(ctx, memory, lead))
    except AccessDenied as error:
        if error.reason == AccessDenied.REASON_CHILD_TOO_OLD:
            return reply(await too_old(ctx, memory))
        await end(ctx, memory)
        return reply(with_menu(ctx, child_refusal_text(ctx, error.reason)))
    await memory.clear()
    return reply(linked_screen(ctx, person, cipher))


async def too_old(ctx: FlowContext, memory: Memory) -> Screen:
    """15 or older: no longer a parent's link; the same answers can go on as a relative's."""
    await memory.set_state(ADULT)
    return Screen(too_old_text(ctx), as_relative_rows(ctx))


async def as_relative_pressed(ctx: FlowContext, memory: Memory) -> Reply:
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory))
    service.link_as_relative(draft)
    await memory.set_state(SCOPE)
    return reply(STRIP, scope_screen(ctx))
