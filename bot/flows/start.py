"""The first conversation, channel-neutral: language, consent, the main menu.

Each function takes the update's `FlowContext` and returns the screens to show, in order.
A channel renders them (Telegram: `handlers.start` through `handlers.render`)."""

from __future__ import annotations

from collections.abc import Callable

from bot.flows import linking_resume
from bot.flows.context import FlowContext, Memory
from bot.flows.menu import menu_buttons
from bot.flows.screens import Button, Placement, Screen, column
from bot.services import users as users_service

Gettext = Callable[[str], str]

# In both languages at once: the reader has not chosen one yet.
LANGUAGE_PROMPT = "Выберите язык / Choose your language:"
# Language names stay in their own language so anyone can find theirs.
LANGUAGE_NAMES = {"ru": "🇷🇺 Русский", "en": "🇬🇧 English"}

# The button ids, as Telegram's CallbackData packed them (keyboards/start.py), so buttons
# already in chats keep working; a test keeps them equal.
CONSENT_ACCEPT = "cons:a"
CONSENT_DECLINE = "cons:d"


def language_action(code: str) -> str:
    return f"lang:{code}"


def language_screen() -> Screen:
    row = tuple(Button(name, language_action(code)) for code, name in LANGUAGE_NAMES.items())
    return Screen(LANGUAGE_PROMPT, (row,))


def consent_text(_: Gettext, messenger: str = "Telegram") -> str:
    return _(
        "<b>Consent to the processing of personal data</b>\n\n"
        "To link your medical card and book appointments, the bot processes personal and health "
        "data (Federal Law 152-FZ, articles 9 and 10).\n\n"
        "<b>What the bot keeps:</b> your {messenger} id and language; the policies you link "
        "(encrypted) and whose cards you manage; your notification settings; a journal of who "
        "viewed a card through the bot.\n"
        "<b>What it does not keep:</b> your medical records. They are read from the EMK each "
        "time you open them and are not stored by the bot.\n"
        "<b>Why:</b> to show your records, book visits and send you notifications.\n\n"
        "You can withdraw consent and delete your data at any time: /privacy.\n\n"
        "Do you agree?"
    ).format(messenger=messenger)


def consent_screen(_: Gettext, messenger: str = "Telegram") -> Screen:
    return Screen(
        consent_text(_, messenger),
        column(Button(_("✅ I agree"), CONSENT_ACCEPT), Button(_("Decline"), CONSENT_DECLINE)),
    )


def menu_screen(text: str, _: Gettext) -> Screen:
    return Screen(text, menu=menu_buttons(_))


def start(ctx: FlowContext) -> list[Screen]:
    """/start: what comes first for this user — a language, the consent, or the menu."""
    _ = ctx.gettext
    if ctx.user.language is None:
        return [language_screen()]
    if not ctx.user.has_consent:
        return [consent_screen(_, ctx.messenger)]
    return [menu_screen(_("Welcome back! Choose what to do:"), _)]


def choose_language() -> list[Screen]:
    return [language_screen()]


def language_chosen(ctx: FlowContext, code: str) -> list[Screen]:
    if code not in ctx.locales:  # a forged button, or a language since removed
        return [Screen(ctx.gettext("This button is out of date."), placement=Placement.ALERT)]
    users_service.set_language(ctx.user, code)
    _ = ctx.in_locale(code).gettext  # the answer is in the language just chosen
    shown = consent_screen(_, ctx.messenger)
    if ctx.user.has_consent:
        shown = menu_screen(_("Done. Choose what to do:"), _)
    return [Screen(_("Language changed"), placement=Placement.POPUP), STRIP, shown]


async def language_chosen_in(ctx: FlowContext, memory: Memory, code: str) -> list[Screen]:
    """A language chosen in the middle of a conversation: linking a policy is not dropped
    (its step and draft stay), and its step is said again in the new language."""
    shown = language_chosen(ctx, code)
    if code not in ctx.locales:
        return shown
    theirs = ctx.in_locale(code)
    step = await linking_resume.current_step(theirs, memory)
    if not step:
        return shown
    _ = theirs.gettext
    goes_on = menu_screen(_("Done. Linking the policy goes on where it was:"), _)
    return [*shown[:-1], goes_on, *step]


async def consent_accepted(ctx: FlowContext) -> list[Screen]:
    _ = ctx.gettext
    users_service.give_consent(ctx.user, ctx.clock())
    await ctx.session.flush()
    return [
        Screen(_("Thank you"), placement=Placement.POPUP),
        STRIP,
        menu_screen(_("Consent recorded. Choose what to do:"), _),
    ]


def consent_declined(ctx: FlowContext) -> list[Screen]:
    _ = ctx.gettext
    if ctx.user.has_consent:
        # An old "Decline" button under a consent already given: nothing changes here;
        # withdrawing is a deliberate step of its own.
        text = _(
            "You have already given your consent, and it stays recorded. To withdraw "
            "it and delete your data, use /privacy."
        )
    else:
        text = _(
            "Without consent the bot cannot work with your medical data, so it will not "
            "store anything about you. If you change your mind, send /start."
        )
    return [STRIP, Screen(text)]


STRIP = Screen("", placement=Placement.STRIP)
"""Take the buttons off the message whose button was pressed (a choice made once)."""
