""" "My data" (/privacy), channel-neutral: what the bot keeps, the way to who has access and
who viewed the card, withdrawing consent and deleting one's data (/forget).

Withdrawing consent stops the bot working with one's data but ends nobody's access: the people
one gave access to one's card keep it until it is revoked (which works without consent, see
`bot.flows.owner_access`). /forget ends all access the bot set up, both ways. The Telegram
renderer is `handlers.privacy` through `handlers.render`; clearing a conversation's state is
the renderer's (the flow knows no FSM).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.flows.access_texts import esc
from bot.flows.context import FlowContext
from bot.flows.requester import requester_of
from bot.flows.screens import Button, Placement, Screen, column
from bot.services import people as people_service
from bot.services import privacy as privacy_service
from bot.services import users as users_service
from bot.services.privacy import AccessGiven, StoredSummary

Gettext = Callable[[str], str]

# The button ids, as the Telegram CallbackData factories pack them (keyboards/privacy.py
# `PrivacyCb`, keyboards/people.py `AccessCb`), so old buttons in chats keep working; a test
# keeps them equal.
ACCESS_LIST = "acc:l::0"
JOURNAL = "priv:j"
WITHDRAW = "priv:w"
WITHDRAW_CONFIRM = "priv:wc"
FORGET = "priv:f"
FORGET_CONFIRM = "priv:fc"
KEEP = "priv:k"


def _access_button(_: Gettext) -> Button:
    """The owner's list with its revoke buttons, as a new message; works without consent."""
    return Button(_("🔑 Who has access to my card"), ACCESS_LIST)


def summary_screen(summary: StoredSummary, _: Gettext, messenger: str = "Telegram") -> Screen:
    text = _(
        "<b>What the bot keeps about you</b>\n"
        "• {messenger} id and language\n"
        "• consent given: {consent}\n"
        "• linked people: {people}\n\n"
        "Your medical records are not stored: they are read from the EMK when you open them."
    ).format(
        messenger=messenger,
        consent=_("yes") if summary.has_consent else _("no"),
        people=summary.linked_people,
    )
    buttons = []
    if summary.has_own_card:  # who has access to it and who viewed it come first
        buttons += [_access_button(_), Button(_("👁 Who viewed my card"), JOURNAL)]
    buttons += [Button(_("Withdraw consent"), WITHDRAW), Button(_("Delete my data"), FORGET)]
    return Screen(text, column(*buttons))


async def summary(ctx: FlowContext) -> list[Screen]:
    """/privacy and the menu button."""
    stored = await privacy_service.stored_summary(ctx.session, ctx.user, ctx.clock())
    return [summary_screen(stored, ctx.gettext, ctx.messenger)]


def confirm_rows(
    _: Gettext, confirm_text: str, confirm: str, *, with_access: bool = False
) -> tuple[tuple[Button, ...], ...]:
    """Yes / No; `with_access` adds "Who has access to my card" (to revoke before or after)."""
    buttons = [Button(confirm_text, confirm)]
    if with_access:
        buttons.append(_access_button(_))
    buttons.append(Button(_("No, keep it"), KEEP))
    return column(*buttons)


async def _access_given(ctx: FlowContext) -> AccessGiven:
    requester = await requester_of(ctx)
    return await privacy_service.access_given(
        ctx.session, ctx.backend, ctx.user, requester, ctx.clock()
    )


def _names(given: AccessGiven) -> str:
    return ", ".join(esc(name) for name in given.names or ())


def _withdraw_question(_: Gettext, given: AccessGiven, has_people: bool) -> str:
    parts = [
        _(
            "Withdraw consent? The bot will stop working with your medical data, and the menu "
            "will close until you agree again (/start). What the bot keeps stays stored until "
            "you delete it with /forget."
        )
    ]
    if given.names:
        parts.append(
            _(
                "Access to your card that you gave stays until you revoke it: {names}. You can "
                "revoke it now or later, also without consent: “🔑 Who has access to my card” "
                "in /privacy."
            ).format(names=_names(given))
        )
    elif given.names is None:
        parts.append(
            _(
                "If you gave anyone access to your card, they keep it until you revoke it. You "
                "can do that now or later, also without consent: “🔑 Who has access to my "
                "card” in /privacy."
            )
        )
    if has_people:
        parts.append(
            _(
                "/forget deletes everything the bot keeps and ends all access it set up: yours "
                "to the cards in My people, and other people's to your card."
            )
        )
    return "\n\n".join(parts)


async def withdraw_asked(ctx: FlowContext) -> list[Screen]:
    """Nothing is withdrawn yet; the "My data" message turns into the question."""
    given = await _access_given(ctx)
    has_people = await people_service.count_people(ctx.session, ctx.user) > 0
    _ = ctx.gettext
    rows = confirm_rows(_, _("Yes, withdraw"), WITHDRAW_CONFIRM, with_access=given.has_own_card)
    return [Screen(_withdraw_question(_, given, has_people), rows, placement=Placement.EDIT)]


async def withdraw_confirmed(ctx: FlowContext) -> list[Screen]:
    """Consent withdrawn; the access given stays (said, with the way to the list), and the
    menu is hidden until /start."""
    _ = ctx.gettext
    users_service.withdraw_consent(ctx.user, ctx.clock())
    given = await _access_given(ctx)
    text = _("Consent withdrawn. To use the bot again, send /start.")
    if given.names:
        text += "\n\n" + _(
            "Access to your card stays: {names}. To revoke it, use the button below or, later, "
            "/privacy."
        ).format(names=_names(given))
    elif given.names is None:
        text += "\n\n" + _(
            "If you gave anyone access to your card, they keep it. To revoke it, use the button "
            "below or, later, /privacy."
        )
    rows = column(_access_button(_)) if given.names is None or given.names else ()
    return [
        Screen(_("Consent withdrawn"), placement=Placement.POPUP),
        Screen(text, rows, placement=Placement.EDIT),
        Screen(_("The menu is hidden."), remove_reply_keyboard=True),
    ]


async def _forget_question(ctx: FlowContext) -> str:
    _ = ctx.gettext
    text = _("Delete everything the bot keeps about you? This cannot be undone.")
    people = await people_service.count_people(ctx.session, ctx.user)
    if people == 0:
        return text
    given = await _access_given(ctx)
    ends = [
        ctx.ngettext(
            "your access to {count} card in My people",
            "your access to {count} cards in My people",
            people,
        ).format(count=people)
    ]
    if given.names:
        ends.append(_("the access to your card that you gave: {names}").format(names=_names(given)))
    elif given.names is None:
        ends.append(_("any access to your card that you gave to others"))
    text += "\n\n" + _("This also ends:") + "".join(f"\n• {line}" for line in ends)
    if given.names or given.names is None:
        text += "\n\n" + _(
            "If you want them to keep it, withdraw consent instead (/privacy): the access you "
            "gave then stays."
        )
    return text


async def forget_asked(ctx: FlowContext, *, in_place: bool) -> list[Screen]:
    """Nothing is deleted yet. `in_place`: pressed on "My data" (that message becomes the
    question); /forget asks in a new message."""
    _ = ctx.gettext
    rows = confirm_rows(_, _("Yes, delete"), FORGET_CONFIRM)
    placement = Placement.EDIT if in_place else Placement.NEW
    return [Screen(await _forget_question(ctx), rows, placement=placement)]


async def forget_confirmed(ctx: FlowContext) -> list[Screen]:
    """Grants are revoked at the backend first (others' to the user's card, then the user's
    own), so nobody keeps access the user could no longer see or revoke; a backend that is
    down stops the deletion (raised: nothing is deleted, the user retries)."""
    requester = await requester_of(ctx)
    await privacy_service.forget_user(ctx.session, ctx.user, ctx.clock(), ctx.backend, requester)
    _ = ctx.gettext
    return [
        Screen(_("Deleted"), placement=Placement.POPUP),
        Screen(
            _("Everything the bot kept about you has been deleted. Send /start to begin again."),
            placement=Placement.EDIT,
        ),
        Screen(_("The menu is hidden."), remove_reply_keyboard=True),
    ]


def kept(ctx: FlowContext) -> list[Screen]:
    """ "No, keep it": the question stays, without its buttons."""
    return [
        Screen(ctx.gettext("Nothing changed"), placement=Placement.POPUP),
        Screen("", placement=Placement.STRIP),
    ]
