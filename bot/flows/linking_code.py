"""The code step of linking, channel-neutral: asking the backend to send the SMS (or holding
it for the one-a-minute pause), the code typed back, "send again", "start over", and telling
the card's owner at once when someone got access."""

from __future__ import annotations

from datetime import datetime

from backend_client.errors import (
    AccessDenied,
    CodeExhausted,
    CodeExpired,
    CodeWrong,
    GrantLimitReached,
    InvalidRequest,
    LookupLocked,
    NotFound,
    RateLimited,
)
from backend_client.models import Grant, Relation
from backend_client.protocol import CODE_LENGTH
from bot.crypto import FieldCipher
from bot.db.models import LinkDraft, LinkedPerson
from bot.flows.access_texts import esc, scope_text, until_text
from bot.flows.context import FlowContext, Memory
from bot.flows.linking_outputs import Notice, Reply, reply
from bot.flows.linking_screens import code_rows, restart_rows, send_code_rows, with_menu
from bot.flows.linking_steps import (
    ASKED_KEY,
    CODE,
    DRAFT_KEY,
    SEND,
    SEND_AFTER_KEY,
    draft_of,
    end,
    logger,
    lookup_locked,
    lost,
    restart_memory,
    to_policy,
)
from bot.flows.linking_texts import (
    attempt_over_text,
    caps_text,
    code_sent_text,
    exhausted_text,
    grant_limit_text,
    paused_text,
    send_in_text,
    try_again_text,
    wait_text,
)
from bot.flows.owner_access import revoke_rows
from bot.flows.requester import requester_of
from bot.flows.screens import Placement, Screen
from bot.logs import log_event, pseudonym
from bot.services import linking as service
from bot.services import linking_backend, linking_sms
from bot.services import people as people_service

STRIP = Screen("", placement=Placement.STRIP)
"""Take the buttons off the pressed message (a choice made once)."""


def _pressed(pressed: bool, *screens: Screen) -> tuple[Screen, ...]:
    """Screens that only a press of "Send the code" shows (a popup, taking its button off)."""
    return screens if pressed else ()


async def request_code(
    ctx: FlowContext, memory: Memory, draft: LinkDraft, *, pressed: bool = False
) -> Reply:
    """Ask the backend to send the code. `pressed`: this answers "Send the code" (the outcome
    is its popup, and its button goes once the question is settled)."""
    now = ctx.clock()
    requester = await requester_of(ctx)
    cipher = FieldCipher(ctx.keys)
    _ = ctx.gettext
    try:
        challenge = await linking_backend.request_code(
            ctx.session, ctx.backend, cipher, draft, requester, now
        )
    except LookupLocked as error:
        locked = await lookup_locked(ctx, memory, error.retry_after, now)
        return reply(*_pressed(pressed, STRIP)).then(locked)
    except RateLimited as error:
        return await _send_refused(ctx, memory, error.retry_after, pressed, now)
    except (NotFound, InvalidRequest):
        lead = _(
            "No medical card was found with this policy number and birth date. Please check both."
        )
        return reply(await to_policy(ctx, memory, lead))
    except GrantLimitReached as error:
        await end(ctx, memory)
        return reply(with_menu(ctx, grant_limit_text(ctx, error.limit)))
    asked = linking_backend.AskedCode.of(cipher, challenge)
    await restart_memory(memory, CODE, {DRAFT_KEY: draft.id, ASKED_KEY: asked.to_data()})
    log_event(
        logger,
        "link.code_requested",
        user=pseudonym(ctx.user.messenger_key),
        relation=draft.relation,
    )
    label = service.read_draft(cipher, draft).label
    sent = Screen(code_sent_text(ctx, challenge, label, now), code_rows(ctx))
    popup = Screen(_("The code was sent"), placement=Placement.POPUP)
    return reply(*_pressed(pressed, popup, STRIP), sent)


async def _send_refused(
    ctx: FlowContext, memory: Memory, retry_after: int, pressed: bool, now: datetime
) -> Reply:
    """The backend held the SMS back. The one-a-minute pause keeps every answer and offers
    "Send the code" (pressed too early, it says how long is left); the hourly and daily caps
    end the attempt and say when to try again."""
    if linking_sms.is_short_pause(retry_after):
        await memory.set_state(SEND)
        await memory.update_data({SEND_AFTER_KEY: linking_sms.send_after(now, retry_after)})
        log_event(logger, "link.code_paused", user=pseudonym(ctx.user.messenger_key))
        if pressed:
            return reply(Screen(send_in_text(ctx, retry_after), placement=Placement.ALERT))
        return reply(Screen(paused_text(ctx, retry_after), send_code_rows(ctx)))
    await end(ctx, memory)
    log_event(logger, "link.code_capped", user=pseudonym(ctx.user.messenger_key))
    text = (
        caps_text(ctx) + " " + attempt_over_text(ctx) + " " + try_again_text(ctx, retry_after, now)
    )
    return reply(*_pressed(pressed, STRIP), with_menu(ctx, text))


async def send_pressed(ctx: FlowContext, memory: Memory) -> Reply:
    """The held-back code: the backend decides whether the pause is over (its clock is the one
    that counts), and says how long is left if not."""
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory))
    return await request_code(ctx, memory, draft, pressed=True)


async def typed_while_paused(ctx: FlowContext, memory: Memory, text: str | None) -> Reply:
    """Anything typed while the code waits; a code-like number (an old SMS) is deleted."""
    kind = service.looks_sensitive(text)
    lead = ctx.gettext("Message deleted.") + " " if kind is not None else ""
    said = await not_sent_yet(ctx, memory)
    return reply(Screen(lead + said.text, said.rows), delete_input=kind is not None)


async def not_sent_yet(ctx: FlowContext, memory: Memory) -> Screen:
    """While the code waits for the pause: when to tap "Send the code", and the button."""
    _ = ctx.gettext
    left = linking_sms.seconds_until((await memory.get_data()).get(SEND_AFTER_KEY), ctx.clock())
    if left > 0:
        said = _(
            "The code has not been sent yet: tap “📨 Send the code” in {wait}, then type the "
            "code from the SMS here."
        ).format(wait=wait_text(ctx, left))
    else:
        said = _(
            "The code has not been sent yet: tap “📨 Send the code”, then type the code from "
            "the SMS here."
        )
    return Screen(said, send_code_rows(ctx))


async def code_entered(ctx: FlowContext, memory: Memory, text: str) -> Reply:
    """The code the owner relayed (or one's own SMS): always deleted from the chat."""
    _ = ctx.gettext
    code = service.parse_code(text)  # «097 117» as read out of the SMS is the same code
    draft = await draft_of(ctx, memory)
    if draft is None or draft.challenge_id is None:
        return reply(await lost(ctx, memory), delete_input=True)
    if code is None:
        said = _("The code has {digits} digits. Please enter it again.").format(digits=CODE_LENGTH)
        return reply(Screen(said), delete_input=True)
    now = ctx.clock()
    requester = await requester_of(ctx)
    cipher = FieldCipher(ctx.keys)
    asked = linking_backend.AskedCode.from_data((await memory.get_data()).get(ASKED_KEY))
    try:
        linked = await linking_backend.confirm_code(
            ctx.session, ctx.backend, cipher, ctx.user, draft, code, requester, now, asked
        )
    except CodeWrong as error:
        if error.attempts_left <= 0:
            return reply(Screen(exhausted_text(ctx), restart_rows(ctx)), delete_input=True)
        said = ctx.ngettext(
            "Wrong code. {n} attempt left.", "Wrong code. {n} attempts left.", error.attempts_left
        ).format(n=error.attempts_left)
        return reply(Screen(said), delete_input=True)
    except CodeExpired:
        said = _("This code has expired. Tap “Send the code again” to get a new one.")
        return reply(Screen(said, code_rows(ctx)), delete_input=True)
    except CodeExhausted:
        return reply(Screen(exhausted_text(ctx), restart_rows(ctx)), delete_input=True)
    except GrantLimitReached as error:
        await memory.clear()
        return reply(with_menu(ctx, grant_limit_text(ctx, error.limit)), delete_input=True)
    except NotFound:
        return reply(await lost(ctx, memory), delete_input=True)
    await memory.clear()
    done = reply(linked_screen(ctx, linked.person, cipher), delete_input=True)
    if linked.grant.relation is Relation.SELF:
        return done
    return Reply(done.screens, True, await _owner_alerts(ctx, cipher, linked.grant))


def linked_screen(ctx: FlowContext, person: LinkedPerson, cipher: FieldCipher) -> Screen:
    _ = ctx.gettext
    view = people_service.to_person(cipher, person)
    if view.relation is Relation.SELF:
        text = _("Done: your medical card is linked. You will find it in My people.")
    else:
        text = _("Done: {label} is now in My people ({scope}, {until}).").format(
            label=esc(view.label),
            scope=scope_text(_, view.scope),
            until=until_text(_, ctx.locale, view.expires_at),
        )
    log_event(logger, "link.done", relation=view.relation.value)
    return with_menu(ctx, text)


async def _owner_alerts(ctx: FlowContext, cipher: FieldCipher, grant: Grant) -> tuple[Notice, ...]:
    """The card's owner is told at once, if they use this bot, with a button to revoke."""
    ref = people_service.grant_ref(cipher, grant.grant_id)
    owners = await linking_backend.owners_to_alert(ctx.session, cipher, grant.patient_id, ctx.user)
    notices = []
    for recipient, language, channel in owners:
        theirs = ctx.in_locale(language or ctx.settings.app.default_locale)
        _ = theirs.gettext
        text = _(
            "🔐 <b>Someone got access to your medical card</b>\n"
            "{name}: {scope}, {until}.\n"
            "If you did not pass on the code, revoke the access now."
        ).format(
            name=esc(grant.requester_name),
            scope=scope_text(_, grant.scope),
            until=until_text(_, theirs.locale, grant.expires_at),
        )
        rows = revoke_rows(_, [(ref, grant.requester_name)], in_place=False)
        notices.append(Notice(recipient, Screen(text, rows), channel))
    return tuple(notices)


async def resend_pressed(ctx: FlowContext, memory: Memory) -> Reply:
    _ = ctx.gettext
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory))
    now = ctx.clock()
    requester = await requester_of(ctx)
    try:
        challenge = await linking_backend.resend_code(ctx.backend, draft, requester)
    except RateLimited as error:
        if linking_sms.is_short_pause(error.retry_after):
            said = _("A new code can be sent in {wait}.").format(
                wait=wait_text(ctx, error.retry_after)
            )
        else:  # the caps: the code already sent may still work until it expires
            said = caps_text(ctx) + " " + try_again_text(ctx, error.retry_after, now)
        return reply(Screen(said, placement=Placement.ALERT))
    except (CodeExhausted, NotFound, AccessDenied):
        said = _("This request is closed. Tap “Start over” to request a new code.")
        return reply(Screen(said, restart_rows(ctx)))
    label = service.read_draft(FieldCipher(ctx.keys), draft).label
    return reply(
        Screen(_("A new code was sent"), placement=Placement.POPUP),
        Screen(code_sent_text(ctx, challenge, label, now), code_rows(ctx)),
    )


async def restart_pressed(ctx: FlowContext, memory: Memory) -> Reply:
    draft = await draft_of(ctx, memory)
    if draft is None:
        return reply(await lost(ctx, memory))
    # A new request with fresh data: the old code (if any) simply expires unused.
    draft.challenge_id = None
    return reply(await to_policy(ctx, memory, ctx.gettext("Let's start over.")))
