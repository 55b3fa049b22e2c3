"""The "My data" flow without a messenger: its screen, and button ids that the Telegram
CallbackData factories still parse (old buttons in chats keep working)."""

from __future__ import annotations

from bot.flows import privacy as flow
from bot.services.privacy import StoredSummary
from keyboards.people import AccessAction, AccessCb
from keyboards.privacy import PrivacyAction, PrivacyCb


def same(text: str) -> str:
    return text


def test_with_an_own_card_access_and_journal_come_first() -> None:
    screen = flow.summary_screen(StoredSummary(True, 2, True), same)
    assert [b.action for b in screen.buttons] == [
        flow.ACCESS_LIST,
        flow.JOURNAL,
        flow.WITHDRAW,
        flow.FORGET,
    ]
    assert "consent given: yes" in screen.text and "linked people: 2" in screen.text


def test_without_an_own_card_there_is_nothing_to_show_access_to() -> None:
    screen = flow.summary_screen(StoredSummary(False, 0, False), same)
    assert [b.action for b in screen.buttons] == [flow.WITHDRAW, flow.FORGET]
    assert "consent given: no" in screen.text


def test_the_ids_are_what_the_telegram_factories_parse() -> None:
    assert AccessCb.unpack(flow.ACCESS_LIST).action is AccessAction.LIST
    assert PrivacyCb.unpack(flow.JOURNAL).action is PrivacyAction.JOURNAL
    assert PrivacyCb.unpack(flow.WITHDRAW).action is PrivacyAction.WITHDRAW
    assert PrivacyCb.unpack(flow.FORGET).action is PrivacyAction.FORGET
