"""My people, channel-neutral: the list, one person's card, removing them (asked first), and
the "for whom" picker that the features acting on a patient use.

Every press is authorized: a person id on a button is the bot's own row id, looked up for the
presser now (another user's id, an expired or revoked grant is an alert and changes nothing).
Removing costs the person a new code, so "Yes, remove" acts only as the answer to its own
question, shown in this conversation and recorded in its memory once it reached the chat.
Button ids are what Telegram's `PersonCb` packs (`ppl:<action>:<row id>`); the link buttons
are `LinkStartCb`'s (`lnk:<kind>`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from backend_client.errors import BackendUnavailable
from backend_client.models import Relation, Scope
from bot.crypto import FieldCipher
from bot.flows.access_texts import esc, refusal_text, scope_text, until_text
from bot.flows.context import FlowContext, Memory
from bot.flows.requester import requester_of
from bot.flows.screens import Button, Placement, Screen, column
from bot.logs import log_event, pseudonym
from bot.services import linking
from bot.services import people as people_service
from bot.services.people import REMEMBERED_PERSON_KEY, AccessRefused, Person

logger = logging.getLogger(__name__)

VIEW, UNLINK, UNLINK_CONFIRM, PICK = "v", "u", "uc", "p"  # `keyboards.people.PersonAction`
LINK_SELF, LINK_RELATIVE, LINK_CHILD = "s", "r", "c"  # `keyboards.policies.LinkKind`

UNLINK_ASKED_KEY = "unlink_asked"
"""Memory: the row whose removal the user was just asked about (an id only)."""

Gettext = Callable[[str], str]
Show = Callable[[Sequence[Screen]], Awaitable[bool]]
"""Renders screens in answer to a press; True when they reached the chat (a message the
messenger no longer gives access to gets none)."""


def action_id(action: str, person_id: int) -> str:
    return f"ppl:{action}:{person_id}"


def link_id(kind: str) -> str:
    return f"lnk:{kind}"


def relation_text(_: Gettext, relation: Relation) -> str:
    if relation is Relation.SELF:
        return _("my card")
    if relation is Relation.CHILD:
        return _("child")
    return _("relative")


def person_line(_: Gettext, locale: str, person: Person) -> str:
    return _("<b>{label}</b> — {relation}; {scope}; {until}").format(
        label=esc(person.label),
        relation=relation_text(_, person.relation),
        scope=scope_text(_, person.scope),
        until=until_text(_, locale, person.expires_at),
    )


def add_person_buttons(_: Gettext, has_own_card: bool) -> list[Button]:
    """What can be linked: one's own policy (until it is), a relative's, a child's."""
    buttons = [] if has_own_card else [Button(_("➕ My own policy"), link_id(LINK_SELF))]
    return [
        *buttons,
        Button(_("➕ A relative's policy"), link_id(LINK_RELATIVE)),
        Button(_("➕ A child under 15"), link_id(LINK_CHILD)),
    ]


def people_rows(
    _: Gettext, people: Sequence[tuple[int, str]], has_own_card: bool
) -> tuple[tuple[Button, ...], ...]:
    """The list's buttons: each person (opens their card), then what can be linked."""
    people_buttons = [Button(label, action_id(VIEW, person_id)) for person_id, label in people]
    return column(*people_buttons, *add_person_buttons(_, has_own_card))


def person_rows(_: Gettext, person_id: int) -> tuple[tuple[Button, ...], ...]:
    return column(Button(_("🗑 Remove from My people"), action_id(UNLINK, person_id)))


def unlink_confirm_rows(_: Gettext, person_id: int) -> tuple[tuple[Button, ...], ...]:
    return column(
        Button(_("Yes, remove"), action_id(UNLINK_CONFIRM, person_id)),
        Button(_("No, keep"), action_id(VIEW, person_id)),
    )


def whose_card_rows(people: Sequence[tuple[int, str]]) -> tuple[tuple[Button, ...], ...]:
    return column(*(Button(label, action_id(PICK, person_id)) for person_id, label in people))


def _alert(ctx: FlowContext, error: AccessRefused) -> list[Screen]:
    return [Screen(refusal_text(ctx.gettext, error), placement=Placement.ALERT)]


async def _people(ctx: FlowContext) -> list[Person]:
    return await people_service.list_people(
        ctx.session, FieldCipher(ctx.keys), ctx.user, ctx.clock()
    )


# --- the list and a person ------------------------------------------------------------------


async def show_people(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """/people and the menu button: a menu tap ends whatever flow was open, and its draft."""
    _ = ctx.gettext
    await memory.clear()
    await linking.drop_drafts(ctx.session, ctx.user)
    requester = await requester_of(ctx)
    try:
        # Grants revoked by an owner or ended (a child who turned 15) disappear from the list.
        await people_service.drop_inactive(
            ctx.session, ctx.backend, ctx.user, requester.id, ctx.clock()
        )
    except BackendUnavailable:
        log_event(logger, "people.sync_skipped", logging.WARNING)
    people = await _people(ctx)
    has_own = any(p.relation is Relation.SELF for p in people)
    if people:
        text = _("<b>My people</b>\n") + "\n".join(
            "• " + person_line(_, ctx.locale, p) for p in people
        )
    else:
        text = _(
            "<b>My people</b>\nNobody yet. Link your own OMS policy, and with their code "
            "a relative's; a parent can add a child under 15."
        )
    return [Screen(text, people_rows(_, [(p.id, p.label) for p in people], has_own))]


async def _checked(ctx: FlowContext, person_id: int, action: str) -> Person | list[Screen]:
    """The person if the user may act on them right now (the backend asked too); otherwise
    the alert saying why (the refusal is logged as a security event)."""
    requester = await requester_of(ctx)
    try:
        row = await people_service.check_access(
            ctx.session,
            ctx.backend,
            ctx.user,
            person_id,
            Scope.APPOINTMENTS,
            requester,
            action=action,
            now=ctx.clock(),
        )
    except AccessRefused as error:
        return _alert(ctx, error)
    return people_service.to_person(FieldCipher(ctx.keys), row)


async def person_viewed(ctx: FlowContext, person_id: int) -> list[Screen]:
    """A person's card as a message of its own, with its "remove" button (which only asks)."""
    person = await _checked(ctx, person_id, "view")
    if isinstance(person, list):
        return person
    line = person_line(ctx.gettext, ctx.locale, person)
    return [Screen(line, person_rows(ctx.gettext, person.id))]


# --- removing -------------------------------------------------------------------------------


def _unlink_question(_: Gettext, person: Person) -> str:
    if person.relation is Relation.CHILD:
        # A child under 15 is added by the parent without a code, and can be added again.
        return _(
            "Remove {label} from My people? The access will be revoked too; you can add the "
            "child again at any time while they are under 15, without a code."
        ).format(label=esc(person.label))
    return _(
        "Remove {label} from My people? The access will be revoked too; to get it back "
        "you will need a new code."
    ).format(label=esc(person.label))


async def unlink_asked(ctx: FlowContext, memory: Memory, person_id: int, show: Show) -> None:
    """Asks "Remove ...?"; only then does its "Yes, remove" (for this person) remove."""
    person = next((p for p in await _people(ctx) if p.id == person_id), None)
    if person is None:
        people_service.log_denied(ctx.user, person_id, AccessRefused.NOT_YOURS, "unlink")
        await show(_alert(ctx, AccessRefused(AccessRefused.NOT_YOURS)))
        return
    question = Screen(
        _unlink_question(ctx.gettext, person), unlink_confirm_rows(ctx.gettext, person.id)
    )
    # Recorded once the question is on the screen: a "Yes" is never taken for an answer to
    # a question that was not shown.
    if await show([question]):
        await memory.update_data({UNLINK_ASKED_KEY: person.id})


async def unlink_confirmed(ctx: FlowContext, memory: Memory, person_id: int, show: Show) -> None:
    """ "Yes, remove": removes the person and revokes the grant, if it answers its question."""
    data = await memory.get_data()
    if data.get(UNLINK_ASKED_KEY) != person_id:
        # "Yes, remove" without its question: forged data, or a question from before another
        # flow. Removing costs the person a new code, so the question is asked (again) first.
        log_event(logger, "people.unlink_unasked", user=pseudonym(ctx.user.messenger_key))
        await unlink_asked(ctx, memory, person_id, show)
        return
    requester = await requester_of(ctx)
    try:
        await people_service.unlink(ctx.session, ctx.backend, ctx.user, person_id, requester)
    except AccessRefused as error:
        await memory.update_data({UNLINK_ASKED_KEY: None})
        await show(_alert(ctx, error))
        return
    answered: dict[str, object] = {UNLINK_ASKED_KEY: None}  # one question, one removal
    if data.get(REMEMBERED_PERSON_KEY) == person_id:
        answered[REMEMBERED_PERSON_KEY] = None
    await memory.update_data(answered)
    log_event(logger, "people.unlinked", user=pseudonym(ctx.user.messenger_key))
    _ = ctx.gettext
    await show(
        [
            Screen(_("Removed"), placement=Placement.POPUP),
            Screen(_("Removed from My people; the access is revoked."), placement=Placement.EDIT),
        ]
    )


# --- whose card -----------------------------------------------------------------------------


def pick_or_ask(
    _: Gettext, people: list[Person], remembered: object, needed: Scope
) -> Person | Screen:
    """The person to act for when that is unambiguous (one person, or the one chosen in this
    conversation), else the question: "for whom?" with a button per person whose access is
    enough, or that there is nobody. The choice comes back as `PICK`."""
    choice = people_service.whose_card(people, remembered, needed)
    if choice.chosen is not None:
        return choice.chosen
    if not choice.choices:
        return Screen(
            _("There is nobody whose card you can use for this. Open My people to link a policy.")
        )
    return Screen(_("For whom?"), whose_card_rows([(p.id, p.label) for p in choice.choices]))


async def whose_card(ctx: FlowContext, memory: Memory, needed: Scope) -> Person | list[Screen]:
    """For features acting on a patient: the person, or the screens asking. The caller must
    still run `people_service.check_access` before touching the patient."""
    remembered = (await memory.get_data()).get(REMEMBERED_PERSON_KEY)
    answer = pick_or_ask(ctx.gettext, await _people(ctx), remembered, needed)
    return [answer] if isinstance(answer, Screen) else answer


async def person_picked(ctx: FlowContext, memory: Memory, person_id: int) -> list[Screen]:
    """A "for whom" choice, checked now; remembered for this conversation."""
    person = await _checked(ctx, person_id, "pick")
    if isinstance(person, list):
        return person
    await memory.update_data({REMEMBERED_PERSON_KEY: person.id})
    text = ctx.gettext("Acting for: <b>{label}</b>.").format(label=esc(person.label))
    return [Screen(text, placement=Placement.EDIT)]
