"""Linking cards, channel-neutral: my own policy, a relative's (the code from the owner's SMS,
which the owner relays), a child under 15 (through the parent's own card).

The steps: the phone (once per user, shared as a contact), a name for a relative or a child,
the policy, the birth date, then for a relative what they may do and for how long, then the
code (`linking_code`); a child is linked without a code (`linking_child`). Each function takes
one input and answers a `Reply`; `on_text` and `on_press` route an input by the step the
memory is at, for a channel that does not route by state itself. Every press is checked
against this user's own open draft; a button of another step or an old one is not this flow's.
"""

from __future__ import annotations

from backend_client.errors import LookupLocked
from backend_client.models import Relation
from bot.crypto import FieldCipher, requester_id_for
from bot.db.models import LinkDraft
from bot.flows import linking_child, linking_code
from bot.flows.access_texts import esc
from bot.flows.context import FlowContext, Memory
from bot.flows.inputs import Command, Contact, Input, Press, Text
from bot.flows.linking_code import STRIP
from bot.flows.linking_outputs import Reply, reply
from bot.flows.linking_screens import (
    AS_RELATIVE_PREFIX,
    CODE_PREFIX,
    RELATIONS,
    RESEND,
    RESTART,
    SCOPE_PREFIX,
    SCOPES,
    SEND,
    START_PREFIX,
    TERM_PREFIX,
    TERMS,
    parse,
    scope_screen,
    share_phone_screen,
    term_screen,
    with_menu,
)
from bot.flows.linking_steps import (
    ADULT,
    BIRTH_DATE,
    CODE,
    DRAFT_KEY,
    LABEL,
    PHONE,
    POLICY,
    SCOPE,
    TERM,
    ask_policy,
    draft_of,
    end,
    first_step,
    is_linking,
    logger,
    lookup_locked,
    lost,
    name_first,
    phone_prompt,
    restart_memory,
)
from bot.flows.linking_steps import SEND as SEND_STATE
from bot.flows.linking_texts import (
    birth_date_error_text,
    label_error_text,
    policy_error_text,
    sensitive_deleted_text,
)
from bot.flows.menu import entry_of
from bot.flows.people import person_line
from bot.flows.screens import Screen
from bot.logs import log_event, pseudonym
from bot.services import linking as service
from bot.services import linking_backend
from bot.services import people as people_service
from bot.services.appointments.clock import MOSCOW

# --- start, phone ---------------------------------------------------------------------------


async def start(ctx: FlowContext, memory: Memory, relation: Relation) -> Reply:
    """ "My own policy", "A relative's policy", "A child under 15" (also old buttons)."""
    _ = ctx.gettext
    now = ctx.clock()
    own = await people_service.own_card(ctx.session, ctx.user, now)
    if relation is Relation.SELF and own is not None:
        # An old "My own policy" button: nothing to link, and whatever the user was doing
        # (a booking, say) stays as it was.
        person = people_service.to_person(FieldCipher(ctx.keys), own)
        line = person_line(_, ctx.locale, person)
        return reply(Screen(_("Your own card is already linked:") + "\n" + line))
    if relation is Relation.CHILD and own is None:
        return reply(
            Screen(
                _(
                    "A child is linked through the parent's own card. First link your own "
                    "policy: My people → My own policy."
                )
            )
        )
    draft = await service.start_draft(ctx.session, ctx.user, relation, now)
    if not await service.has_verified_phone(ctx.session, ctx.user):
        await restart_memory(memory, PHONE, {DRAFT_KEY: draft.id})
        return reply(share_phone_screen(phone_prompt(ctx), ctx))
    await restart_memory(memory, POLICY, {DRAFT_KEY: draft.id})
    return reply(await first_step(ctx, memory, relation))


async def contact_shared(ctx: FlowContext, memory: Memory, phone: str, own: bool) -> Reply:
    """A contact at the phone step; `own`: the messenger says it is the sender's own."""
    _ = ctx.gettext
    if not own:
        log_event(logger, "security.foreign_contact", user=pseudonym(ctx.user.messenger_key))
        text = _(
            "This is not your own contact. Please share your own number with the button "
            "below; other people's numbers are not accepted."
        )
        # Someone else's number is not ours to keep in the chat.
        return reply(share_phone_screen(text, ctx), delete_input=True)
    await service.remember_phone(ctx.session, FieldCipher(ctx.keys), ctx.user, phone, ctx.clock())
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory), delete_input=True)
    thanks = with_menu(ctx, _("Thank you, your phone is confirmed."))
    return reply(thanks, await first_step(ctx, memory, Relation(draft.relation)), delete_input=True)


def phone_expected(ctx: FlowContext, text: str | None) -> Reply:
    _ = ctx.gettext
    kind = service.looks_sensitive(text)
    if kind is not None:
        said = (
            sensitive_deleted_text(ctx, kind)
            + " "
            + _("First share your phone number with the button below; the policy comes next.")
        )
        return reply(share_phone_screen(said, ctx), delete_input=True)
    said = _("Please tap the “Share my phone number” button below, or send /cancel.")
    return reply(share_phone_screen(said, ctx))


# --- label, policy, birth date --------------------------------------------------------------


async def label_entered(ctx: FlowContext, memory: Memory, text: str) -> Reply:
    _ = ctx.gettext
    kind = service.looks_sensitive(text)
    if kind is not None:  # a policy (or a code) typed where the name was asked: not a name
        return await _sensitive_at_label(ctx, memory, kind, text)
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory))
    try:
        label = service.parse_label(text)
    except service.LabelInputError as error:
        return reply(Screen(label_error_text(ctx, error)))
    service.set_draft_label(FieldCipher(ctx.keys), draft, label)
    if draft.policy_enc is not None:  # the policy came first, at the name step: not asked twice
        await memory.set_state(BIRTH_DATE)
        said = _("Thank you. Now the birth date of {label}, for example 01.02.1980.")
        return reply(with_menu(ctx, said.format(label=esc(label))))
    await memory.set_state(POLICY)
    lead = _("Now the policy of {label}.").format(label=esc(label))
    return reply(ask_policy(ctx, lead))


async def _sensitive_at_label(
    ctx: FlowContext, memory: Memory, kind: service.Sensitive, text: str
) -> Reply:
    """A policy typed before the name (people have the policy card in hand): it leaves the
    chat, and a valid one is kept, so a tired person does not type 16 digits twice; the name is
    asked for, with an example that fits. A code-like number is only deleted."""
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory), delete_input=True)
    ask_name = name_first(ctx, Relation(draft.relation))
    if kind is not service.Sensitive.POLICY:
        return reply(Screen(sensitive_deleted_text(ctx, kind) + " " + ask_name), delete_input=True)
    try:
        policy = service.parse_policy(text)
    except service.PolicyInputError as error:  # a typo: said now; the policy step asks again
        return reply(Screen(policy_error_text(ctx, error) + " " + ask_name), delete_input=True)
    locked = await _keep_policy(ctx, memory, draft, policy)
    if locked is not None:
        return locked
    kept = ctx.gettext(
        "Message deleted from the chat: it looks like the policy number. It is kept, so you "
        "will not need to type it again."
    )
    return reply(with_menu(ctx, kept + " " + ask_name), delete_input=True)


async def policy_entered(ctx: FlowContext, memory: Memory, text: str) -> Reply:
    """The policy number: always deleted from the chat once read."""
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory), delete_input=True)
    try:
        policy = service.parse_policy(text)
    except service.PolicyInputError as error:
        return reply(Screen(policy_error_text(ctx, error)), delete_input=True)
    locked = await _keep_policy(ctx, memory, draft, policy)
    if locked is not None:
        return locked
    await memory.set_state(BIRTH_DATE)
    said = ctx.gettext("Policy accepted. Now the birth date, for example 01.02.1980.")
    return reply(Screen(said), delete_input=True)


async def _keep_policy(
    ctx: FlowContext, memory: Memory, draft: LinkDraft, policy: str
) -> Reply | None:
    """The policy into the draft; or, when its look-ups are locked, the answer that says so."""
    cipher = FieldCipher(ctx.keys)
    now = ctx.clock()
    requester_id = requester_id_for(ctx.keys, ctx.user.messenger_key)
    wait = await linking_backend.lookup_wait(ctx.session, cipher, requester_id, policy, now)
    if wait > 0:  # said at once: no point answering the next questions to be refused
        # The backend's cap clamps the wait the same way (a day at most).
        locked = await lookup_locked(ctx, memory, LookupLocked(wait).retry_after, now)
        return Reply(locked.screens, True)
    service.set_draft_policy(cipher, draft, policy)
    return None


async def birth_date_entered(ctx: FlowContext, memory: Memory, text: str) -> Reply:
    """The birth date: always deleted from the chat once read."""
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory), delete_input=True)
    today = ctx.clock().astimezone(MOSCOW).date()
    try:
        born = service.parse_birth_date(text, today)
    except service.BirthDateInputError as error:
        return reply(Screen(birth_date_error_text(ctx, error)), delete_input=True)
    service.set_draft_birth_date(FieldCipher(ctx.keys), draft, born)
    relation = Relation(draft.relation)
    if relation is Relation.RELATIVE:
        await memory.set_state(SCOPE)
        answer = reply(scope_screen(ctx))
    elif relation is Relation.CHILD:
        answer = await linking_child.link_child(ctx, memory, draft)
    else:
        answer = await linking_code.request_code(ctx, memory, draft)
    return Reply(answer.screens, True, answer.notices)


# --- scope and term (relatives) -------------------------------------------------------------


async def scope_chosen(ctx: FlowContext, memory: Memory, choice: str) -> Reply:
    scope = SCOPES.get(choice)
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory))
    if scope is None:  # a forged choice: asked again
        return reply(scope_screen(ctx))
    draft.scope = scope.value
    await memory.set_state(TERM)
    return reply(STRIP, term_screen(ctx))


async def term_chosen(ctx: FlowContext, memory: Memory, choice: str) -> Reply:
    term = TERMS.get(choice)
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory))
    if term is None:  # a forged choice: asked again
        return reply(term_screen(ctx))
    draft.access_expires_at = service.term_expires_at(term, ctx.clock())
    return reply(STRIP).then(await linking_code.request_code(ctx, memory, draft))


# --- what the step did not ask for ----------------------------------------------------------


def text_expected(ctx: FlowContext) -> Reply:
    """Not a text where one is asked (a photo, a sticker)."""
    return reply(Screen(ctx.gettext("Please send it as a text message, or /cancel to stop.")))


def button_expected(ctx: FlowContext, text: str | None) -> Reply:
    kind = service.looks_sensitive(text)
    lead = "" if kind is None else sensitive_deleted_text(ctx, kind) + " "
    said = lead + ctx.gettext("Please choose with the buttons above, or send /cancel to stop.")
    return reply(Screen(said), delete_input=kind is not None)


async def interrupted(ctx: FlowContext, memory: Memory) -> Reply:
    """A menu entry or a command that opens something else: the linking ends, said in one
    line; then the entry's own answer follows (the channel routes it on)."""
    await end(ctx, memory)
    log_event(logger, "link.interrupted", user=pseudonym(ctx.user.messenger_key))
    return reply(Screen(ctx.gettext("Linking the policy was cancelled.")))


# --- routing by step, for a channel that does not route by state ----------------------------


async def on_text(ctx: FlowContext, memory: Memory, text: str | None) -> Reply | None:
    """A message (None: not a text) at the step the memory is at; None outside linking.
    Menu entries and commands are the caller's: they end the flow through `interrupted`."""
    state = await memory.get_state()
    if not is_linking(state):
        return None
    if state == PHONE:
        return phone_expected(ctx, text)
    if state == SEND_STATE:
        return await linking_code.typed_while_paused(ctx, memory, text)
    if state in (SCOPE, TERM, ADULT):
        return button_expected(ctx, text)
    if text is None:
        return text_expected(ctx)
    if state == LABEL:
        return await label_entered(ctx, memory, text)
    if state == POLICY:
        return await policy_entered(ctx, memory, text)
    if state == BIRTH_DATE:
        return await birth_date_entered(ctx, memory, text)
    return await linking_code.code_entered(ctx, memory, text)


async def on_press(ctx: FlowContext, memory: Memory, action: str) -> Reply | None:
    """A button of this flow, checked against the step it belongs to; None for an id that is
    not the flow's or a button of another step (an old one): the channel's stale-button
    answer takes it."""
    parsed = parse(action)
    if parsed is None:
        return None
    prefix, value = parsed
    state = await memory.get_state()
    if prefix == START_PREFIX:
        relation = RELATIONS.get(value)
        return None if relation is None else await start(ctx, memory, relation)
    if prefix == SCOPE_PREFIX and state == SCOPE:
        return await scope_chosen(ctx, memory, value)
    if prefix == TERM_PREFIX and state == TERM:
        return await term_chosen(ctx, memory, value)
    if prefix == AS_RELATIVE_PREFIX and state == ADULT:
        return await linking_child.as_relative_pressed(ctx, memory)
    if prefix == CODE_PREFIX and value == SEND and state == SEND_STATE:
        return await linking_code.send_pressed(ctx, memory)
    if prefix == CODE_PREFIX and value == RESEND and state == CODE:
        return await linking_code.resend_pressed(ctx, memory)
    if prefix == CODE_PREFIX and value == RESTART and state == CODE:
        return await linking_code.restart_pressed(ctx, memory)
    return None


async def handle(ctx: FlowContext, memory: Memory, event: Input) -> Reply | None:
    """One input of a channel's router (`bot.flows.inputs`); None when it is not this flow's
    (a command, a button of another flow or step, anything outside linking but its start)."""
    if isinstance(event, Press):
        return await on_press(ctx, memory, event.action)
    if not is_linking(await memory.get_state()):
        return None
    if isinstance(event, Contact):
        if await memory.get_state() != PHONE:
            return None
        return await contact_shared(ctx, memory, event.phone, event.own)
    if isinstance(event, Text):
        return await on_text(ctx, memory, event.text)
    return None


STAYS = frozenset({"help", "cancel", "language"})
"""Commands (and menu entries) that do not end the linking: /help and /cancel answer for
themselves, and a language chosen mid-way keeps the step (`linking_resume` says it again)."""


def leaves(event: Input) -> bool:
    """A command or a menu entry that opens something else (not /help, /cancel or the
    language): while linking, `interrupted` answers it first, then its own flow."""
    if isinstance(event, Command):
        return event.name not in STAYS
    if isinstance(event, Press):
        entry = entry_of(event.action)
        return entry is not None and entry.key not in STAYS
    return False
