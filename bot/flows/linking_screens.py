"""The linking flow's buttons, channel-neutral. The ids are what Telegram's CallbackData in
`keyboards/policies.py` packs (`lnk:<kind>`, `lsc:<scope>`, `ltm:<term>`, `lcd:<action>`,
`lar:1`), so buttons already in chats keep working and a stale or forged one is refused the
same way on every channel; a test keeps them equal."""

from __future__ import annotations

from backend_client.models import Relation, Scope
from bot.flows.context import FlowContext
from bot.flows.linking_outputs import SHARE_CONTACT
from bot.flows.menu import menu_buttons
from bot.flows.screens import Button, Screen, column
from bot.services import linking as service

START_PREFIX, SCOPE_PREFIX, TERM_PREFIX, CODE_PREFIX, AS_RELATIVE_PREFIX = (
    "lnk",
    "lsc",
    "ltm",
    "lcd",
    "lar",
)
AS_RELATIVE = f"{AS_RELATIVE_PREFIX}:1"

# `keyboards.policies.LinkKind`, `ScopeChoice`, `CodeAction`
RELATIONS = {"s": Relation.SELF, "r": Relation.RELATIVE, "c": Relation.CHILD}
SCOPES = {"a": Scope.APPOINTMENTS, "r": Scope.RECORDS}
TERMS = {term.value: term for term in service.AccessTerm}
RESEND, RESTART, SEND = "s", "r", "c"


def start_id(kind: str) -> str:
    return f"{START_PREFIX}:{kind}"


def scope_id(choice: str) -> str:
    return f"{SCOPE_PREFIX}:{choice}"


def term_id(term: str) -> str:
    return f"{TERM_PREFIX}:{term}"


def code_id(action: str) -> str:
    return f"{CODE_PREFIX}:{action}"


def parse(action: str) -> tuple[str, str] | None:
    """(prefix, value) of one of the flow's ids; None for anything else."""
    prefix, sep, value = action.partition(":")
    if not sep or prefix not in (
        START_PREFIX,
        SCOPE_PREFIX,
        TERM_PREFIX,
        CODE_PREFIX,
        AS_RELATIVE_PREFIX,
    ):
        return None
    return prefix, value


def with_menu(ctx: FlowContext, text: str) -> Screen:
    """A message with the main menu under it (the way home stays one tap away)."""
    return Screen(text, menu=menu_buttons(ctx.gettext))


def share_phone_screen(text: str, ctx: FlowContext) -> Screen:
    return Screen(text, column(Button(ctx.gettext("📱 Share my phone number"), SHARE_CONTACT)))


def scope_screen(ctx: FlowContext) -> Screen:
    _ = ctx.gettext
    rows = column(
        Button(_("Appointments only"), scope_id("a")),
        Button(_("Appointments and the medical record"), scope_id("r")),
    )
    return Screen(_("What may you do with this card?"), rows)


def term_screen(ctx: FlowContext) -> Screen:
    _ = ctx.gettext
    rows = (
        (
            Button(_("1 month"), term_id("1m")),
            Button(_("6 months"), term_id("6m")),
            Button(_("1 year"), term_id("1y")),
        ),
        (Button(_("No end date"), term_id("0")),),
    )
    return Screen(_("For how long? The owner can revoke the access at any time."), rows)


def code_rows(ctx: FlowContext) -> tuple[tuple[Button, ...], ...]:
    _ = ctx.gettext
    return column(
        Button(_("🔁 Send the code again"), code_id(RESEND)),
        Button(_("↩️ Start over (number changed)"), code_id(RESTART)),
    )


def restart_rows(ctx: FlowContext) -> tuple[tuple[Button, ...], ...]:
    return column(Button(ctx.gettext("↩️ Start over"), code_id(RESTART)))


def send_code_rows(ctx: FlowContext) -> tuple[tuple[Button, ...], ...]:
    return column(Button(ctx.gettext("📨 Send the code"), code_id(SEND)))


def as_relative_rows(ctx: FlowContext) -> tuple[tuple[Button, ...], ...]:
    return column(Button(ctx.gettext("➕ Add as a relative"), AS_RELATIVE))
