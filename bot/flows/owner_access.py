"""The owner in control of their own card, channel-neutral: who has access, and revoking it
(also from the "someone got access" alert).

Works with or without consent (revoking only takes rights away; 152-FZ must not make that
harder) and is authorized on every press: the grant a button names is looked up in the
owner's live list, which the backend answers only for the card's owner. Button ids are what
Telegram's `AccessCb` packs (`acc:<action>:<ref>:<n>`); `n` marks a button on a notification,
whose flow opens in a new message (notifications are never edited).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Grant, Requester
from backend_client.protocol import MAX_RECIPIENTS, RecordsBackend
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.flows.access_texts import esc, refusal_text, scope_text, until_text
from bot.flows.context import FlowContext
from bot.flows.requester import requester_of
from bot.flows.screens import Button, Placement, Screen, column
from bot.services import people as people_service
from bot.services.people import AccessRefused

LIST, REVOKE, REVOKE_CONFIRM, KEEP = "l", "r", "rc", "k"  # `keyboards.people.AccessAction`


def action_id(action: str, ref: str = "", *, anew: bool = False) -> str:
    return f"acc:{action}:{ref}:{int(anew)}"


LIST_ID = action_id(LIST)
Gettext = Callable[[str], str]

GrantLookup = Callable[
    [AsyncSession, RecordsBackend, FieldCipher, User, Requester, str, datetime],
    Awaitable[Grant | None],
]
"""`find_given` or `revoke_given`: the owner's live grant named by a button's reference."""


def _grant_line(ctx: FlowContext, grant: Grant) -> str:
    _ = ctx.gettext
    return _("<b>{name}</b> — {scope}; {until}").format(
        name=esc(grant.requester_name),
        scope=scope_text(_, grant.scope),
        until=until_text(_, ctx.locale, grant.expires_at),
    )


def revoke_rows(
    _: Gettext, refs: Sequence[tuple[str, str]], *, in_place: bool
) -> tuple[tuple[Button, ...], ...]:
    """One "revoke" button per recipient (grant ref, name). It only asks; `in_place`: the
    list's own buttons (they edit the list), else a notification's (a new message)."""
    return column(
        *(
            Button(
                _("❌ Revoke: {name}").format(name=name), action_id(REVOKE, ref, anew=not in_place)
            )
            for ref, name in refs
        )
    )


async def _list_screen(ctx: FlowContext, requester: Requester, placement: Placement) -> Screen:
    """The owner's live list; `AccessRefused` without an own card."""
    _ = ctx.gettext
    grants = await people_service.grants_given(
        ctx.session, ctx.backend, ctx.user, requester, ctx.clock()
    )
    if not grants:
        text = (
            _("<b>Who has access to my card</b>\nNobody but you.")
            + "\n"
            + _("At most {limit} people can have access at a time.").format(limit=MAX_RECIPIENTS)
        )
        return Screen(text, placement=placement)
    cipher = FieldCipher(ctx.keys)
    text = (
        _("<b>Who has access to my card</b>\n")
        + "\n".join("• " + _grant_line(ctx, g) for g in grants)
        + "\n\n"
        + _("{count} of {limit} places taken. You can revoke access at any time.").format(
            count=len(grants), limit=MAX_RECIPIENTS
        )
    )
    refs = [(people_service.grant_ref(cipher, g.grant_id), g.requester_name) for g in grants]
    return Screen(text, revoke_rows(ctx.gettext, refs, in_place=True), placement=placement)


async def _refreshed(
    ctx: FlowContext, requester: Requester, *, before: str = "", anew: bool = False
) -> Screen:
    """The list as it is now (a revoked person's button gone), after `before`."""
    placement = Placement.NEW if anew else Placement.EDIT
    try:
        screen = await _list_screen(ctx, requester, placement)
    except AccessRefused as error:
        screen = Screen(refusal_text(ctx.gettext, error), placement=placement)
    text = f"{before}\n\n{screen.text}" if before else screen.text
    return Screen(text, screen.rows, placement=placement)


async def show_list(ctx: FlowContext) -> list[Screen]:
    """/access and the menu button: the list, or why there is none."""
    try:
        return [await _list_screen(ctx, await requester_of(ctx), Placement.NEW)]
    except AccessRefused as error:
        return [Screen(refusal_text(ctx.gettext, error))]


async def list_pressed(ctx: FlowContext) -> list[Screen]:
    """The list from "My data" or the withdraw question, as a message of its own."""
    try:
        return [await _list_screen(ctx, await requester_of(ctx), Placement.NEW)]
    except AccessRefused as error:
        return [Screen(refusal_text(ctx.gettext, error), placement=Placement.ALERT)]


async def _own_grant(
    ctx: FlowContext, ref: str, anew: bool, lookup: GrantLookup, action: str
) -> tuple[Requester, Grant] | list[Screen]:
    """The grant the button names (the backend asked now), or the answer when there is none:
    no own card any more, or the access has already ended (then the list as it is now, unless
    pressed on the alert, which stays as it was)."""
    requester = await requester_of(ctx)
    cipher = FieldCipher(ctx.keys)
    try:
        grant = await lookup(
            ctx.session, ctx.backend, cipher, ctx.user, requester, ref, ctx.clock()
        )
    except AccessRefused as error:
        people_service.log_denied(ctx.user, None, error.reason, action)
        return [Screen(refusal_text(ctx.gettext, error), placement=Placement.ALERT)]
    if grant is None:
        ended = Screen(ctx.gettext("This access has already ended."), placement=Placement.ALERT)
        return [ended] if anew else [ended, await _refreshed(ctx, requester)]
    return requester, grant


async def revoke_asked(ctx: FlowContext, ref: str, anew: bool) -> list[Screen]:
    """Nothing is revoked yet: getting access back takes a new code from the owner's SMS."""
    found = await _own_grant(ctx, ref, anew, people_service.find_given, "revoke_ask")
    if isinstance(found, list):
        return found
    _ = ctx.gettext
    text = _(
        "<b>Revoke access to your medical card?</b>\n"
        "{line}\n\n"
        "The access ends at once. To get it back, this person will need a new code from the "
        "SMS sent to your phone."
    ).format(line=_grant_line(ctx, found[1]))
    rows = column(
        Button(_("Yes, revoke"), action_id(REVOKE_CONFIRM, ref)),
        Button(_("No, keep access"), action_id(KEEP)),
    )
    return [Screen(text, rows, placement=Placement.NEW if anew else Placement.EDIT)]


async def revoke_confirmed(ctx: FlowContext, ref: str, anew: bool) -> list[Screen]:
    found = await _own_grant(ctx, ref, anew, people_service.revoke_given, "revoke_given")
    if isinstance(found, list):
        return found
    requester, revoked = found
    # The relative's card stops being offered at once; they are told by the worker, which
    # reads the backend's "access revoked" event (as for a revocation made on the portal).
    await people_service.end_links_of_grant(ctx.session, revoked.grant_id, ctx.clock())
    _ = ctx.gettext
    # "Access revoked: Anna S." — a label is "Name I.", which Russian cannot decline; it also
    # ends with a dot, so nothing follows it on its line.
    done = _("✅ Access revoked: {name}\nThey can no longer use your card.").format(
        name=esc(revoked.requester_name)
    )
    return [
        Screen(_("Access revoked"), placement=Placement.POPUP),
        await _refreshed(ctx, requester, before=done),
    ]


async def kept(ctx: FlowContext) -> list[Screen]:
    return [
        Screen(ctx.gettext("Nothing changed"), placement=Placement.POPUP),
        await _refreshed(ctx, await requester_of(ctx)),
    ]
