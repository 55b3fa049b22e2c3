"""What the linking flow's steps share: its states, its memory keys, the draft, and the
answers that end or restart an attempt.

Memory holds only the draft row's id (and, at the code step, when the code may be sent and
which code was asked for); the policy and birth date sit encrypted in that row until the link
is made. The states are the flow's own strings; Telegram's `LinkFlow` StatesGroup has the same
ones (`LinkFlow.phone.state == PHONE`), so its StateFilters route on them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from backend_client.models import Relation
from bot.db.models import LinkDraft
from bot.flows.context import FlowContext, Memory
from bot.flows.linking_outputs import Reply, reply
from bot.flows.linking_screens import with_menu
from bot.flows.linking_texts import attempt_over_text, lookup_locked_text
from bot.flows.screens import Screen
from bot.logs import log_event, pseudonym
from bot.services import linking as service

logger = logging.getLogger("bot.flows.linking")

_GROUP = "LinkFlow"
PHONE = f"{_GROUP}:phone"
LABEL = f"{_GROUP}:label"
POLICY = f"{_GROUP}:policy"
BIRTH_DATE = f"{_GROUP}:birth_date"
SCOPE = f"{_GROUP}:scope"
TERM = f"{_GROUP}:term"
SEND = f"{_GROUP}:send"
"""The answers are in; the code waits for the one-SMS-a-minute pause ("Send the code")."""
CODE = f"{_GROUP}:code"
ADULT = f"{_GROUP}:adult"
"""A "child" turned out to be 15 or older: "Add as a relative" goes on with the answers."""
STATES = (PHONE, LABEL, POLICY, BIRTH_DATE, SCOPE, TERM, SEND, CODE, ADULT)
ALWAYS_DELETED = (POLICY, BIRTH_DATE, CODE)
"""Steps whose text answer is always deleted (a policy, a birth date, a code): a channel may
delete it before calling the flow, so a failure midway leaves nothing in the chat."""

DRAFT_KEY = "draft_id"
SEND_AFTER_KEY = "send_after"
"""Memory: when the held-back code may be sent (epoch seconds), while in `SEND`."""
ASKED_KEY = "asked"
"""Memory: `linking_backend.AskedCode` of the code sent, while in `CODE` (to finish a link whose
confirm went through at the backend before a crash)."""


def is_linking(state: str | None) -> bool:
    return state in STATES


async def restart_memory(memory: Memory, state: str, data: dict[str, object]) -> None:
    """The conversation's memory replaced by this step and these values (nothing else of an
    earlier flow stays)."""
    await memory.clear()
    await memory.set_state(state)
    await memory.update_data(data)


async def end(ctx: FlowContext, memory: Memory) -> None:
    """The attempt is over: the memory and the encrypted draft both go."""
    await memory.clear()
    await service.drop_drafts(ctx.session, ctx.user)


async def draft_of(ctx: FlowContext, memory: Memory) -> LinkDraft | None:
    data = await memory.get_data()
    return await service.get_draft(ctx.session, ctx.user, data.get(DRAFT_KEY))


async def lost(ctx: FlowContext, memory: Memory) -> Screen:
    await memory.clear()
    return with_menu(
        ctx, ctx.gettext("This request is no longer valid. Please start again from My people.")
    )


def ask_policy(ctx: FlowContext, lead: str = "") -> Screen:
    return with_menu(
        ctx,
        (lead + "\n" if lead else "")
        + ctx.gettext(
            "Enter the OMS policy number (16 digits, spaces and dashes are fine). "
            "The message will be deleted from the chat once read."
        ),
    )


async def to_policy(ctx: FlowContext, memory: Memory, lead: str) -> Screen:
    await memory.set_state(POLICY)
    return ask_policy(ctx, lead)


async def first_step(ctx: FlowContext, memory: Memory, relation: Relation) -> Screen:
    """After the phone: the policy for one's own card, else first the name to show."""
    _ = ctx.gettext
    if relation is Relation.SELF:
        return await to_policy(ctx, memory, _("Let's link your own OMS policy."))
    await memory.set_state(LABEL)
    return with_menu(ctx, label_prompt(ctx, relation))


def label_prompt(ctx: FlowContext, relation: Relation) -> str:
    """The name question, with an example that fits (a child is not "Mum")."""
    _ = ctx.gettext
    if relation is Relation.CHILD:
        return _("What should we call this child? For example: Masha. Only you will see this name.")
    return _("What should we call this person? For example: Mum. Only you will see this name.")


def name_first(ctx: FlowContext, relation: Relation) -> str:
    """The name asked for again when something else (a policy) was typed at the name step."""
    if relation is Relation.CHILD:
        return ctx.gettext("First type a name for this child, for example: Masha.")
    return ctx.gettext("First type a name for this person, for example: Mum.")


def phone_prompt(ctx: FlowContext) -> str:
    return ctx.gettext(
        "First, confirm your phone number: tap the button below to share your {messenger} "
        "contact. The bot keeps only a protected fingerprint of it, not the number."
    ).format(messenger=ctx.messenger)


async def lookup_locked(ctx: FlowContext, memory: Memory, retry_after: int, now: datetime) -> Reply:
    """Too many wrong birth dates for this policy or from this account (the bot's count or the
    backend's): the attempt ends, and the person is told when they may try again."""
    await end(ctx, memory)
    log_event(logger, "link.lookup_locked", user=pseudonym(ctx.user.messenger_key))
    text = lookup_locked_text(ctx, retry_after, now) + " " + attempt_over_text(ctx)
    return reply(with_menu(ctx, text))
