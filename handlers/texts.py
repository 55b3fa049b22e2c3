"""Longer texts shared by several handlers, built at call time in the user's language."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.flows import help as flows_help


def help_text() -> str:
    return flows_help.help_text(_)
