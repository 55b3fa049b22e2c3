"""The first conversation as a flow, without a messenger: what comes first for whom, the
answer in the language just chosen, forged choices refused, consent given and declined, the
menu's entries and their ids; and button ids that Telegram's CallbackData still parses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.clock import FrozenClock
from bot.db.models import User
from bot.flows import menu
from bot.flows import start as flow
from bot.flows.context import FlowContext
from bot.flows.screens import Placement
from keyboards.start import ConsentAction, ConsentCb, LanguageCb
from tests.unit.flow_context import english_context

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
CATALOG = {("ru", "Language changed"): "Язык изменён", ("ru", "Thank you"): "Спасибо"}


class Session:
    def __init__(self) -> None:
        self.flushes = 0

    async def flush(self) -> None:
        self.flushes += 1


def translate(msgid: str, locale: str) -> str:
    return CATALOG.get((locale, msgid), f"[{locale}] {msgid}")


def context(user: User, session: Session | None = None, locale: str = "en") -> FlowContext:
    # No backend, keys or settings: none of this flow's steps reads them.
    return english_context(
        user, session or Session(), FrozenClock(NOW), locale=locale, translate=translate
    )


def new_user(**fields: Any) -> User:
    return User(telegram_id=1001, **fields)


def test_a_new_user_is_asked_for_a_language_in_both() -> None:
    [screen] = flow.start(context(new_user()))
    assert screen.text == flow.LANGUAGE_PROMPT
    assert [b.action for b in screen.buttons] == ["lang:ru", "lang:en"]


def test_with_a_language_but_no_consent_the_consent_comes_next() -> None:
    [screen] = flow.start(context(new_user(language="en")))
    assert "Consent to the processing" in screen.text
    assert [b.action for b in screen.buttons] == [flow.CONSENT_ACCEPT, flow.CONSENT_DECLINE]


def test_a_consented_user_gets_the_menu_with_every_entry() -> None:
    user = new_user(language="en", consent_given_at=NOW)
    [screen] = flow.start(context(user))
    assert screen.menu is not None
    actions = [b.action for row in screen.menu for b in row]
    assert actions == [e.action for row in menu.ROWS for e in row]
    assert all(menu.entry_of(a) is not None for a in actions)


def test_the_answer_to_a_language_choice_is_in_that_language() -> None:
    user = new_user()
    popup, strip, consent = flow.language_chosen(context(user, locale="en"), "ru")
    assert user.language == "ru"
    assert (popup.placement, popup.text) == (Placement.POPUP, "Язык изменён")
    assert strip.placement is Placement.STRIP
    assert consent.text.startswith("[ru] ") and consent.buttons


def test_a_forged_language_changes_nothing() -> None:
    user = new_user(language="en")
    [alert] = flow.language_chosen(context(user), "xx")
    assert alert.placement is Placement.ALERT and user.language == "en"


async def test_consent_is_recorded_at_the_clocks_time_and_the_menu_follows() -> None:
    user, session = new_user(language="ru"), Session()
    popup, strip, shown = await flow.consent_accepted(context(user, session, "ru"))
    assert user.consent_given_at == NOW and user.has_consent and session.flushes == 1
    assert popup.text == "Спасибо" and strip.placement is Placement.STRIP
    assert shown.menu is not None


def test_declining_stores_nothing_and_an_old_decline_keeps_the_consent() -> None:
    user = new_user(language="en")
    _, said = flow.consent_declined(context(user))
    assert not user.has_consent and "will not store anything" in said.text
    consented = new_user(language="en", consent_given_at=NOW)
    _, said = flow.consent_declined(context(consented))
    assert consented.has_consent and "stays recorded" in said.text


def test_a_forged_menu_action_names_no_entry() -> None:
    assert menu.entry_of("menu:records") is menu.RECORDS
    assert menu.entry_of("menu:nothing") is None
    assert menu.entry_of("records") is None


def test_the_ids_are_what_the_telegram_factories_parse() -> None:
    assert LanguageCb.unpack(flow.language_action("ru")).code == "ru"
    assert ConsentCb.unpack(flow.CONSENT_ACCEPT).action is ConsentAction.ACCEPT
    assert ConsentCb.unpack(flow.CONSENT_DECLINE).action is ConsentAction.DECLINE
