"""The owner's access list as a flow, without a messenger: the list, asking before revoking,
the revocation and the refreshed list, a forged or stale reference, someone without an own
card; every button id is what Telegram's AccessCb parses. (Cards are linked through the bot
first; then the flow is called directly, with the owner's context.)"""

from __future__ import annotations

from typing import Any

import pytest

from backend_client.sandbox import SandboxBackend
from bot.flows import owner_access as flow
from bot.flows.screens import Placement, Screen
from keyboards.people import AccessAction, AccessCb
from tests.unit.flow_context import context_of
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.test_owner_revokes_access import daughter_has_access, owner_and_daughter

__all__ = ["backend", "chat_for", "clock", "context_of", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

OWNER = 7300


def revoke_ids(screen: Screen) -> list[str]:
    return [b.action for b in screen.buttons if b.text.startswith("❌ Revoke: ")]


async def test_list_ask_revoke_and_the_list_refreshed(
    chat_for: Any, backend: SandboxBackend, context_of: Any
) -> None:
    await owner_and_daughter(chat_for, backend, OWNER)
    ctx = await context_of(OWNER)
    [listing] = await flow.show_list(ctx)
    assert "1 of 5 places taken" in listing.text
    [revoke] = revoke_ids(listing)
    ref = AccessCb.unpack(revoke).ref

    [question] = await flow.revoke_asked(ctx, ref, False)
    assert question.placement is Placement.EDIT and "Revoke access" in question.text
    assert await daughter_has_access(backend, OWNER + 1)  # asking revokes nothing

    popup, refreshed = await flow.revoke_confirmed(ctx, ref, False)
    assert (popup.placement, popup.text) == (Placement.POPUP, "Access revoked")
    assert refreshed.text.startswith("✅ Access revoked") and "Nobody but you" in refreshed.text
    assert revoke_ids(refreshed) == []
    assert not await daughter_has_access(backend, OWNER + 1)

    # The same button again (a second tap, an old message): told, and the list as it is now.
    ended, now = await flow.revoke_confirmed(ctx, ref, False)
    assert ended.placement is Placement.ALERT and "already ended" in ended.text
    assert "Nobody but you" in now.text
    # Pressed on the alert (a notification): the alert stays as it was.
    [only] = await flow.revoke_asked(ctx, ref, True)
    assert only.placement is Placement.ALERT


async def test_a_forged_reference_revokes_nothing(
    chat_for: Any, backend: SandboxBackend, context_of: Any
) -> None:
    await owner_and_daughter(chat_for, backend, OWNER + 10)
    ctx = await context_of(OWNER + 10)
    for forged in ("", "x" * 40, "AAAAAAAAAAAA"):
        first, *_ = await flow.revoke_confirmed(ctx, forged, False)
        assert first.placement is Placement.ALERT
    assert await daughter_has_access(backend, OWNER + 11)


async def test_without_an_own_card_there_is_no_list(
    chat_for: Any, backend: SandboxBackend, context_of: Any
) -> None:
    await owner_and_daughter(chat_for, backend, OWNER + 20)
    daughter = await context_of(OWNER + 21)  # she manages her mother's card, not her own
    [said] = await flow.show_list(daughter)
    assert "First link your own policy" in said.text and not said.buttons
    [alert] = await flow.list_pressed(daughter)
    assert alert.placement is Placement.ALERT


async def test_every_id_is_what_the_telegram_factory_parses(
    chat_for: Any, backend: SandboxBackend, context_of: Any
) -> None:
    await owner_and_daughter(chat_for, backend, OWNER + 30)
    ctx = await context_of(OWNER + 30)
    [listing] = await flow.show_list(ctx)
    [revoke] = revoke_ids(listing)
    [question] = await flow.revoke_asked(ctx, AccessCb.unpack(revoke).ref, False)
    ids = [flow.LIST_ID, *(b.action for b in (*listing.buttons, *question.buttons))]
    for action in ids:
        assert AccessCb.unpack(action).pack() == action
    assert AccessCb.unpack(flow.LIST_ID).action is AccessAction.LIST
    alert_rows = flow.revoke_rows(lambda m: m, [("ref1", "Анна С.")], in_place=False)
    assert AccessCb.unpack(alert_rows[0][0].action).n is True
