"""A pressed medical-record button by its id alone, for a messenger without Telegram's
CallbackData routing (MAX): the id is parsed as `keyboards.records` packs it (older trend
buttons without the document included) and sent to the step of `bot.flows.records`.

An id that is not a well-formed records button is not ours: `None`, and the caller tries its
other routes (Telegram's filters do the same). A well-formed id is still checked by the step:
another person's card is an alert.
"""

from __future__ import annotations

from collections.abc import Callable

from backend_client.models import Section
from bot.flows import records as flow
from bot.flows.context import FlowContext, Memory
from bot.flows.records import Say
from bot.flows.records_screens import DOC_OPEN, DOC_PDF, WHO_ID
from bot.flows.screens import Screen
from bot.services.records.periods import Period

_FIELDS = {"rh": 1, "rl": 5, "rd": 3, "rt": 3, "rx": 2, "rj": 1}


def _parts(action: str) -> tuple[str, list[str]] | None:
    prefix, _, rest = action.partition(":")
    expected = _FIELDS.get(prefix)
    if expected is None:
        return None
    parts = rest.split(":")
    if prefix == "rt" and len(parts) == expected - 1:  # packed before `e` existed
        parts.append("")
    return (prefix, parts) if len(parts) == expected else None


def _person(value: str) -> int | None:
    return int(value) if value.isdigit() else None


async def press(
    t: FlowContext,
    memory: Memory,
    action: str,
    *,
    progress: Callable[[], None] | None = None,
    say: Say,
) -> list[Screen] | None:
    """The screens a records button leads to, or `None` for an id that is not one."""
    if action == WHO_ID:
        return await flow.who_else(t)
    parsed = _parts(action)
    if parsed is None:
        return None
    prefix, parts = parsed
    person = _person(parts[0] if prefix != "rd" else parts[1])
    if person is None:
        return None
    if prefix == "rh":
        return await flow.home(t, memory, person)
    if prefix == "rj":
        return await flow.journal(t)
    if prefix == "rt":
        return await flow.trend(t, memory, person, parts[1], parts[2])
    if prefix in ("rl", "rx"):
        return await _list_or_export(t, memory, prefix, person, parts, progress, say)
    if parts[0] == DOC_OPEN:
        return await flow.open_document(t, memory, person, parts[2])
    if parts[0] == DOC_PDF:
        return await flow.document_pdf(t, person, parts[2])
    return None


async def _list_or_export(
    t: FlowContext,
    memory: Memory,
    prefix: str,
    person: int,
    parts: list[str],
    progress: Callable[[], None] | None,
    say: Say,
) -> list[Screen] | None:
    try:  # an unknown section or period, a page that is not a number: not a records button
        if prefix == "rl":
            section, period = Section(parts[1]), Period(parts[2])
            page, in_place = int(parts[3]), int(parts[4])
        else:
            export_period = Period(parts[1]) if parts[1] else None
    except ValueError:
        return None
    if prefix == "rl":
        return await flow.show_list(t, memory, person, section, period, page, in_place)
    if export_period is None:
        return await flow.export_ask(t, person)
    return await flow.export(t, person, export_period, progress=progress, say=say)
