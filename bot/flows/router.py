"""Which flow an input goes to, whatever messenger it came from.

Telegram routes with aiogram's filters (`handlers/`); a messenger without them (MAX) hands
every input to `handle`, which applies the same rules in the same order:

1. always open: /start (and MAX's "bot started"), /help, /cancel, the language, the consent
   buttons, "My data" (/privacy, /forget and its buttons) and the owner's revoke buttons —
   taking rights away must work without consent (152-FZ);
2. behind consent: the menu's entries, the features' commands and buttons;
3. the catch-all: a policy number or a code nobody asked for is deleted from the chat, and
   anything else gets "not understood" with the menu; a button nobody knows is out of date.

A button id is parsed here exactly as the flow packed it (Telegram's CallbackData format,
`prefix:field:field`); one that does not parse is not the flow's, and goes on down the list.
Every step still checks that the person may do it (another person's card is an alert).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.flows import (
    appointments_press,
    booking,
    free_text,
    linking,
    menu,
    notification_settings,
    owner_access,
    people,
    privacy,
    records,
    records_press,
    start,
    visits,
    watches,
)
from bot.flows.appointment_common import booking_open
from bot.flows.context import FlowContext, Memory
from bot.flows.inputs import Answer, Command, Input, Media, Press, Started, Text
from bot.flows.linking_outputs import Reply, deliver
from bot.flows.linking_steps import is_linking
from bot.flows.linking_texts import sensitive_deleted_text
from bot.flows.notification_settings import SetAction
from bot.flows.screens import N_, Placement, Screen, edit_as_new
from bot.services import linking as linking_service

MAIN_MENU = menu.MenuEntry("main", N_("☰ Menu"))
"""Not in the menu itself: the button a channel without a persistent keyboard puts under a
message that has no buttons of its own, to bring the menu back."""


async def handle(ctx: FlowContext, memory: Memory, event: Input, answer: Answer) -> None:
    """Answer one input: the screens go out through `answer`, in order."""
    if isinstance(event, Started):
        event = Command("start", event.payload)
    if isinstance(event, Text):
        entry = _menu_entry_typed(ctx, event.text)
        if entry is not None:
            event = Press(entry.action)
    opened = (isinstance(event, Command) and await _open_command(ctx, memory, event, answer)) or (
        isinstance(event, Press) and await _open_press(ctx, memory, event.action, answer)
    )
    if opened:
        return
    if not ctx.user.has_consent:
        await _before_consent(ctx, event, answer)
        return
    if linking.leaves(event) and is_linking(await memory.get_state()):
        # A menu entry or a command in the middle of linking: it ends, said in one line; then
        # the entry's own answer follows.
        await _reply(ctx, answer, await linking.interrupted(ctx, memory))
    said = await linking.handle(ctx, memory, event)
    if said is not None:
        await _reply(ctx, answer, said)
        return
    if isinstance(event, Command) and await _gated_command(ctx, memory, event.name, answer):
        return
    if isinstance(event, Press) and await _gated_press(ctx, memory, event.action, answer):
        return
    await _not_understood(ctx, memory, event, answer)


async def _reply(ctx: FlowContext, answer: Answer, said: Reply) -> None:
    """A flow's `Reply`: the input deleted first, the screens, then the other users told."""
    await deliver(answer, said)
    await ctx.tell_all(said.notices)


def _menu_entry_typed(ctx: FlowContext, text: str) -> menu.MenuEntry | None:
    """A menu label typed (or sent by a reply keyboard) in the reader's language."""
    wanted = text.strip()
    for entry in menu.ENTRIES.values():
        if ctx.gettext(entry.label) == wanted:
            return entry
    return None


# --- always open ----------------------------------------------------------------------------


async def _open_command(ctx: FlowContext, memory: Memory, event: Command, answer: Answer) -> bool:
    _ = ctx.gettext
    name = event.name
    if name == "start":
        await memory.clear()
        await answer.show(start.start(ctx))
    elif name == "help":
        await answer.show(free_text.help_screens(ctx))
    elif name == "cancel":
        await answer.show(await cancel(ctx, memory))
    elif name == "language":
        await answer.show(start.choose_language())
    elif name == "privacy":
        await answer.show(await privacy.summary(ctx))
    elif name == "forget":
        await answer.show(await privacy.forget_asked(ctx, in_place=False))
    else:
        return False
    return True


async def cancel(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """/cancel: whatever conversation was open ends (a linking draft is dropped with it)."""
    _ = ctx.gettext
    had_state = await memory.get_state() is not None or await booking_open(memory)
    await memory.clear()
    # A half-finished linking keeps an encrypted policy in a draft; leaving drops it.
    await linking_service.drop_drafts(ctx.session, ctx.user)
    text = _("Cancelled.") if had_state else _("Nothing to cancel.")
    if ctx.user.has_consent:
        return [start.menu_screen(text, _)]
    return [Screen(text + " " + _("Send /start to begin."))]


async def _open_press(ctx: FlowContext, memory: Memory, action: str, answer: Answer) -> bool:
    prefix, _sep, rest = action.partition(":")
    fields = rest.split(":")
    shown: Sequence[Screen] | None = None
    if prefix == "lang" and len(fields) == 1:
        shown = await start.language_chosen_in(ctx, memory, fields[0])  # linking goes on
    elif action == start.CONSENT_ACCEPT:
        shown = await start.consent_accepted(ctx)
    elif action == start.CONSENT_DECLINE:
        shown = start.consent_declined(ctx)
    elif prefix == "priv":
        shown = await _privacy_press(ctx, memory, action)
    elif prefix == "acc" and len(fields) == 3 and fields[2] in ("0", "1"):
        shown = await _access_press(ctx, fields[0], fields[1], anew=fields[2] == "1")
    if shown is None:
        return False
    await answer.show(shown)
    return True


async def _privacy_press(ctx: FlowContext, memory: Memory, action: str) -> list[Screen] | None:
    if action == privacy.JOURNAL:
        return await records.journal(ctx)
    if action == privacy.WITHDRAW:
        return await privacy.withdraw_asked(ctx)
    if action == privacy.WITHDRAW_CONFIRM:
        await memory.clear()  # whatever flow was open ends with consent
        return await privacy.withdraw_confirmed(ctx)
    if action == privacy.FORGET:
        return await privacy.forget_asked(ctx, in_place=True)
    if action == privacy.FORGET_CONFIRM:
        screens = await privacy.forget_confirmed(ctx)
        await memory.clear()  # only once deleted: a backend that is down stops both
        return screens
    if action == privacy.KEEP:
        return privacy.kept(ctx)
    return None


async def _access_press(
    ctx: FlowContext, step: str, ref: str, *, anew: bool
) -> list[Screen] | None:
    if step == owner_access.LIST:
        return await owner_access.list_pressed(ctx)
    if step == owner_access.REVOKE:
        return await owner_access.revoke_asked(ctx, ref, anew)
    if step == owner_access.REVOKE_CONFIRM:
        return await owner_access.revoke_confirmed(ctx, ref, anew)
    if step == owner_access.KEEP:
        return await owner_access.kept(ctx)
    return None


async def _before_consent(ctx: FlowContext, event: Input, answer: Answer) -> None:
    _ = ctx.gettext
    if isinstance(event, Press):
        text = _("Please give consent first: send /start.")
        await answer.show([Screen(text, placement=Placement.ALERT)])
        return
    lead = ""
    if isinstance(event, Text):
        kind = linking_service.looks_sensitive(event.text)
        if kind is not None:
            await answer.delete_input()
            lead = sensitive_deleted_text(ctx, kind) + "\n\n"
    if ctx.user.language is None:
        await answer.show([Screen(lead + _("Send /start to begin."))])
        return
    consent = start.consent_screen(_, ctx.messenger)
    await answer.show([Screen(lead + consent.text, consent.rows)])


# --- behind consent -------------------------------------------------------------------------


async def _gated_command(ctx: FlowContext, memory: Memory, name: str, answer: Answer) -> bool:
    entry = menu.ENTRIES.get(_COMMAND_ENTRIES.get(name, ""))
    if entry is None:
        return False
    return await _menu(ctx, memory, entry, answer)


# A command that opens the same screen as a menu entry.
_COMMAND_ENTRIES = {
    "records": menu.RECORDS.key,
    "people": menu.PEOPLE.key,
    "access": menu.ACCESS.key,
    "notifications": menu.NOTIFICATIONS.key,
}


async def _menu(ctx: FlowContext, memory: Memory, entry: menu.MenuEntry, answer: Answer) -> bool:
    """A menu entry: a tap on the menu ends whatever conversation was open."""
    _ = ctx.gettext
    if entry is menu.HELP:
        shown: Sequence[Screen] = free_text.help_screens(ctx)
    elif entry is menu.LANGUAGE:
        shown = start.choose_language()
    elif entry is menu.PRIVACY:
        shown = await privacy.summary(ctx)
    elif entry is menu.RECORDS:
        await memory.clear()
        shown = await records.open_records(ctx, memory)
    elif entry is menu.PEOPLE:
        await memory.clear()
        shown = await people.show_people(ctx, memory)
    elif entry is menu.ACCESS:
        await memory.clear()
        shown = await owner_access.show_list(ctx)
    elif entry is menu.NOTIFICATIONS:
        shown = await notification_settings.home(ctx)
    elif entry is menu.BOOK:
        shown = await booking.book_start(ctx, memory)
    elif entry is menu.VISITS:
        shown = await visits.show_visits(ctx, memory)
    elif entry is menu.WATCHES:
        shown = await watches.show_watches(ctx, memory)
    elif entry is MAIN_MENU:
        shown = [start.menu_screen(_("Main menu. Choose what to do:"), _)]
    else:
        return False  # an entry whose flow this channel does not route yet
    # A menu entry opens its screen anew, as a typed command would: never in place of the
    # message that carries the menu (on a channel without reply keyboards, that is the menu).
    await answer.show(
        [edit_as_new(screen) for screen in shown if screen.placement != Placement.STRIP]
    )
    return True


async def _gated_press(ctx: FlowContext, memory: Memory, action: str, answer: Answer) -> bool:
    entry = MAIN_MENU if action == MAIN_MENU.action else menu.entry_of(action)
    if entry is not None:
        return await _menu(ctx, memory, entry, answer)
    prefix, _sep, rest = action.partition(":")
    fields = rest.split(":")
    if prefix == notification_settings.PREFIX and len(fields) == 2:
        try:
            step = SetAction(fields[0])
        except ValueError:
            return False
        await answer.show(await notification_settings.press(ctx, step, fields[1]))
        return True
    if prefix == "ppl" and len(fields) == 2 and fields[1].isdigit():
        return await _people_press(ctx, memory, fields[0], int(fields[1]), answer)
    shown = await records_press.press(
        ctx, memory, action, progress=answer.more_time, say=_say(answer)
    )
    if shown is None:
        shown = await appointments_press.press(ctx, memory, action)
    if shown is None:
        return False
    await answer.show(shown)
    return True


def _say(answer: Answer) -> Callable[[Sequence[Screen]], Awaitable[None]]:
    async def say(screens: Sequence[Screen]) -> None:
        await answer.show(screens)

    return say


async def _people_press(
    ctx: FlowContext, memory: Memory, step: str, person_id: int, answer: Answer
) -> bool:
    if step == people.VIEW:
        await answer.show(await people.person_viewed(ctx, person_id))
    elif step == people.UNLINK:
        await people.unlink_asked(ctx, memory, person_id, answer.show)
    elif step == people.UNLINK_CONFIRM:
        await people.unlink_confirmed(ctx, memory, person_id, answer.show)
    elif step == people.PICK:
        await answer.show(await people.person_picked(ctx, memory, person_id))
    else:
        return False
    return True


# --- the catch-all --------------------------------------------------------------------------


async def _not_understood(ctx: FlowContext, memory: Memory, event: Input, answer: Answer) -> None:
    _ = ctx.gettext
    if isinstance(event, Media):
        await answer.show([start.menu_screen(free_text.media_screen(ctx).text, _)])
        return
    if isinstance(event, Text) and linking_service.looks_sensitive(event.text) is None:
        understood = await free_text.answer(ctx, memory, event.text)
        if understood is not None:
            await answer.show(understood)
            return
    if isinstance(event, Press):
        # Stale buttons from old messages, buttons of a closed flow, forged ids.
        text = _("This button is out of date. Use the menu.")
        await answer.show([Screen(text, placement=Placement.ALERT)])
        return
    kind = linking_service.looks_sensitive(event.text) if isinstance(event, Text) else None
    if kind is not None:
        await answer.delete_input()
    if kind is linking_service.Sensitive.POLICY:
        text = sensitive_deleted_text(ctx, kind) + " " + _("To link a policy, open My people.")
    elif kind is linking_service.Sensitive.CODE:
        text = (
            sensitive_deleted_text(ctx, kind)
            + " "
            + _("If you were linking a policy, please start again from My people.")
        )
    else:
        text = _("I did not understand that. Use the menu below, or /help.")
    await answer.show([start.menu_screen(text, _)])
