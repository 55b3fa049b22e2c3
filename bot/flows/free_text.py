"""What a person means when they type instead of pressing (issue 14, 7): «хочу к окулисту на
завтра», «помогите не могу войти», a doctor's surname, «eye doctor». Before, all of it got the
same «Не понял вас».

Understood, in this order:
- a call for help (помогите, не могу, не получается, help, support, …): the help, with how to
  reach the clinic and support;
- a specialty in everyday words (окулист, глазной, лор, зубной, терапевт, eye doctor, GP, …):
  booking starts at that specialty (when the person acts for one card; for several, "for whom"
  comes first, as from the menu).
Anything else is "not understood" with the menu, as before. Matching is by word stems, in
Russian and English, whatever the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.flows import booking
from bot.flows import booking_actions as ids
from bot.flows.access_texts import esc
from bot.flows.appointment_common import load_draft
from bot.flows.context import FlowContext, Memory
from bot.flows.help import help_text
from bot.flows.screens import Screen, edit_as_new

_WORD = re.compile(r"[a-zа-яё]+")

HELP_STEMS = (
    "помог", "помощ", "не могу", "не получа", "не работа", "проблем", "поддержк", "оператор",
    "help", "support", "can't", "cannot", "problem", "doesn't work",
)  # fmt: skip

# Everyday words for a specialty → its code (the backend's, `SPECIALTY_NAMES`).
SPECIALTY_STEMS: tuple[tuple[str, str], ...] = (
    ("окулист", "ophthalmologist"), ("офтальмолог", "ophthalmologist"), ("глаз", "ophthalmologist"),
    ("eye", "ophthalmologist"), ("ophthalm", "ophthalmologist"), ("optometr", "ophthalmologist"),
    ("терапевт", "therapist"), ("участков", "therapist"), ("therapist", "therapist"),
    ("gp", "therapist"), ("general practitioner", "therapist"),
    ("семейн", "gp"), ("общей практики", "gp"), ("family doctor", "gp"),
    ("педиатр", "pediatrician"), ("детск", "pediatrician"), ("paediatric", "pediatrician"),
    ("pediatric", "pediatrician"),
    ("лор", "ent"), ("лору", "ent"), ("лора", "ent"), ("отоларинголог", "ent"), ("ухо", "ent"), ("горло", "ent"), ("ent", "ent"),
    ("хирург", "surgeon"), ("surgeon", "surgeon"),
    ("уролог", "urologist"), ("urolog", "urologist"),
    ("гинеколог", "gynecologist"), ("gyn", "gynecologist"),
    ("стоматолог", "dentist"), ("зубн", "dentist"), ("зуб", "dentist"), ("dentist", "dentist"),
    ("кардиолог", "cardiologist"), ("сердц", "cardiologist"), ("cardiolog", "cardiologist"),
    ("эндокринолог", "endocrinologist"), ("endocrin", "endocrinologist"),
    ("невролог", "neurologist"), ("невропатолог", "neurologist"), ("neurolog", "neurologist"),
    ("гастроэнтеролог", "gastroenterologist"), ("gastro", "gastroenterologist"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Specialty:
    code: str


Intent = Help | Specialty


def understand(text: str) -> Intent | None:
    """What the text asks for, if it is one of the things this module knows."""
    lowered = " ".join(text.lower().replace("ё", "е").split())
    if not lowered:
        return None
    if any(stem in lowered for stem in HELP_STEMS):
        return Help()
    words = _WORD.findall(lowered)
    for stem, code in SPECIALTY_STEMS:
        if _mentions(stem, lowered, words):
            return Specialty(code)
    return None


def _mentions(stem: str, lowered: str, words: list[str]) -> bool:
    if " " in stem:
        return stem in lowered
    # Short stems (лор, gp, ent, зуб) must be the word itself, not a part of another word.
    if len(stem) <= 3:
        return stem in words
    return any(word.startswith(stem) for word in words)


def media_screen(ctx: FlowContext) -> Screen:
    """A voice message, a sticker, a photo nobody asked for: said plainly, with the menu."""
    _ = ctx.gettext
    return Screen(
        _(
            "I cannot listen to voice messages or read stickers and pictures. Please type what "
            "you need (for example: «к окулисту»), or use the menu."
        )
    )


def help_screens(ctx: FlowContext) -> list[Screen]:
    _ = ctx.gettext
    reach = _(
        "<b>If something does not work</b>\n"
        "• /cancel stops what you are doing; /start brings the menu back.\n"
        "• Your clinic's phone and address are on each visit (🗓 My appointments).\n"
        "• The medical record's data is kept by the clinic: for a mistake in it, ask your "
        "clinic's registry."
    )
    support = ctx.settings.app.support_contact
    if support:
        reach += "\n" + _("• The bot's own support: {support}").format(support=esc(support))
    return [Screen(help_text(_) + "\n\n" + reach)]


async def answer(ctx: FlowContext, memory: Memory, text: str) -> list[Screen] | None:
    """The screens for a text this module understands; None for anything else."""
    intent = understand(text)
    if isinstance(intent, Help):
        return help_screens(ctx)
    if isinstance(intent, Specialty):
        return await _book_at(ctx, memory, intent.code)
    return None


async def _book_at(ctx: FlowContext, memory: Memory, code: str) -> list[Screen]:
    started = await booking.book_start(ctx, memory)
    draft = await load_draft(memory)
    if draft is None or f"{ids.PICK_SPECIALTY}:{code}" not in draft.choices:
        # Several people ("for whom" first), or this person cannot book that specialty
        # directly (a referral is needed): the usual first step, as from the menu.
        return started
    picked: Sequence[Screen] = await booking.picked(ctx, memory, ids.PICK_SPECIALTY, code)
    # Typed text has no pressed message to edit: each step comes as a new message.
    return [edit_as_new(screen) for screen in picked]
