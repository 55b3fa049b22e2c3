"""The owner's control over access to their own card: revoking asks first and
refreshes the list; it works after withdrawing consent and stays authorized; withdrawing and
/forget say what happens to the access one gave; "who viewed my card" from "My data"."""

from __future__ import annotations

from typing import Any

import pytest

from backend_client.models import Requester
from backend_client.sandbox import SandboxBackend
from bot.crypto import FieldCipher, requester_id_for
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.keys import AppKeys
from bot.services import people as people_service
from keyboards.people import AccessAction, AccessCb
from keyboards.privacy import PrivacyAction, PrivacyCb
from tests.conftest import TEST_KEY
from tests.sandbox_fixtures import TEST_NOW
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

KEYS = AppKeys(TEST_KEY)
WITHDRAW_CONFIRM = PrivacyCb(action=PrivacyAction.WITHDRAW_CONFIRM).pack()


def buttons(markup: Any) -> list[tuple[str, str]]:
    if markup is None:
        return []
    return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]


def button(markup: Any, text: str) -> str:
    return next(data for label, data in buttons(markup) if label == text)


def revoke_button(markup: Any) -> str:
    """The daughter's "❌ Отозвать: …", however the bot names her (by her own card, or by her
    Telegram name marked as unverified)."""
    return next(
        data
        for label, data in buttons(markup)
        if label.startswith("❌ Отозвать: ") and "Анна" in label
    )


def last_to(chat: Chat, method: str) -> Any:
    return next(r for r in reversed(chat.rec.sent(method)) if r.chat_id == chat.user.id)


async def owner_and_daughter(
    chat_for: Any, backend: SandboxBackend, base: int
) -> tuple[Chat, Chat]:
    """Галина links her own card; her daughter Анна links it as her mother's (code relayed)."""
    galina = await persona(backend, "elderly_mother")
    owner: Chat = await chat_for(base, "Галина")
    await owner.link_own(backend, galina)
    daughter: Chat = await chat_for(base + 1, "Анна")
    await daughter.link_relative(backend, galina, label="Мама")
    return owner, daughter


async def daughter_has_access(backend: SandboxBackend, telegram_id: int) -> bool:
    return bool(await backend.list_grants_received(requester_id_for(KEYS, telegram_id)))


async def test_revoke_from_the_list_asks_first_then_refreshes_the_list(
    chat_for: Any, backend: SandboxBackend
) -> None:
    owner, _daughter = await owner_and_daughter(chat_for, backend, 7100)
    await owner.text("🔑 У кого есть доступ")
    listing = last_to(owner, "sendMessage")
    revoke = revoke_button(listing.reply_markup)

    await owner.press(revoke)
    question = last_to(owner, "editMessageText")  # the list itself turns into the question
    assert question.text.startswith("<b>Отозвать доступ к вашей медкарте?</b>")
    assert "Анна" in question.text and "новый код" in question.text
    assert [t for t, _ in buttons(question.reply_markup)] == [
        "Да, отозвать",
        "Нет, оставить доступ",
    ]
    assert await daughter_has_access(backend, 7101)  # asking is not revoking

    await owner.press(button(question.reply_markup, "Нет, оставить доступ"))
    assert "Ничего не изменилось" in owner.alerts()[-1]
    kept = last_to(owner, "editMessageText")
    assert "1 из 5" in kept.text and buttons(kept.reply_markup)
    assert await daughter_has_access(backend, 7101)

    await owner.press(revoke)
    await owner.press(button(last_to(owner, "editMessageText").reply_markup, "Да, отозвать"))
    done = last_to(owner, "editMessageText")
    assert done.text.startswith("✅ Доступ отозван: ") and "Анна" in done.text.split("\n")[0]
    assert "Доступ для" not in done.text
    assert "Ни у кого, кроме вас" in done.text  # the list, refreshed
    assert done.reply_markup is None  # no button of the revoked person left
    assert not await daughter_has_access(backend, 7101)

    # The old question's "Yes" again: nothing left to revoke, said so.
    await owner.press(AccessCb(action=AccessAction.REVOKE_CONFIRM, ref="0" * 16).pack())
    assert "уже закончился" in owner.alerts()[-1]


async def test_the_alert_asks_in_a_new_message_and_is_never_edited(
    chat_for: Any, backend: SandboxBackend
) -> None:
    owner, _daughter = await owner_and_daughter(chat_for, backend, 7110)
    alert = owner.security_alert(7110)
    edits_before = len(owner.rec.sent("editMessageText"))

    await owner.press(alert.reply_markup.inline_keyboard[0][0].callback_data)
    question = last_to(owner, "sendMessage")
    assert question.text.startswith("<b>Отозвать доступ к вашей медкарте?</b>")
    assert len(owner.rec.sent("editMessageText")) == edits_before
    assert await daughter_has_access(backend, 7111)

    await owner.press(button(question.reply_markup, "Да, отозвать"))
    done = last_to(owner, "editMessageText")
    assert done.text.startswith("✅ Доступ отозван: ") and done.reply_markup is None
    assert not await daughter_has_access(backend, 7111)


async def test_revoking_works_after_consent_is_withdrawn(
    chat_for: Any, backend: SandboxBackend
) -> None:
    owner, _daughter = await owner_and_daughter(chat_for, backend, 7120)
    alert = owner.security_alert(7120)

    await owner.press(PrivacyCb(action=PrivacyAction.WITHDRAW).pack())
    question = last_to(owner, "editMessageText")
    assert "сохранится, пока вы его не отзовёте: " in question.text and "Анна" in question.text
    assert "/forget" in question.text and "чужой — к вашей медкарте" in question.text
    labels = [t for t, _ in buttons(question.reply_markup)]
    assert labels == ["Да, отозвать", "🔑 У кого есть доступ к моей медкарте", "Нет, оставить"]

    await owner.press(WITHDRAW_CONFIRM)
    withdrawn = last_to(owner, "editMessageText")
    assert "Доступ к вашей медкарте сохраняется: " in withdrawn.text and "Анна" in withdrawn.text
    list_button = button(withdrawn.reply_markup, "🔑 У кого есть доступ к моей медкарте")
    assert await daughter_has_access(backend, 7121)  # withdrawing consent ends nobody's access

    # The list and the revoke buttons work without consent (the alert's too).
    await owner.press(list_button)
    listing = last_to(owner, "sendMessage")
    assert "Анна" in listing.text and "1 из 5" in listing.text
    await owner.press(alert.reply_markup.inline_keyboard[0][0].callback_data)
    assert "Сначала дайте согласие" not in " ".join(owner.alerts())
    await owner.press(button(last_to(owner, "sendMessage").reply_markup, "Да, отозвать"))
    assert last_to(owner, "editMessageText").text.startswith("✅ Доступ отозван: ")
    assert not await daughter_has_access(backend, 7121)
    # Everything else stays closed until consent is given again.
    await owner.text("🔑 У кого есть доступ")
    assert "Согласие на обработку персональных данных" in owner.said()


async def test_revoke_without_consent_is_still_only_the_owners(
    chat_for: Any, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    owner, _daughter = await owner_and_daughter(chat_for, backend, 7130)
    data = owner.security_alert(7130).reply_markup.inline_keyboard[0][0].callback_data
    ref = AccessCb.unpack(data).ref
    forged = AccessCb(action=AccessAction.REVOKE_CONFIRM, ref=ref).pack()

    # Someone with no card of their own and no consent.
    nobody: Chat = await chat_for(7132)
    await nobody.press(WITHDRAW_CONFIRM)
    await nobody.press(forged)
    assert "Сначала привяжите свой полис" in nobody.alerts()[-1]

    # Someone else's own card, consent withdrawn: the reference is not in their list.
    stranger: Chat = await chat_for(7133)
    await stranger.link_own(backend, await persona(backend, "mother"))
    await stranger.press(WITHDRAW_CONFIRM)
    await stranger.press(data)
    await stranger.press(forged)
    assert "уже закончился" in stranger.alerts()[-1]

    assert await daughter_has_access(backend, 7131)
    assert len(await people_rows(sessionmaker, 7131)) == 1


async def test_forget_says_and_ends_access_both_ways(
    chat_for: Any, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    owner, daughter = await owner_and_daughter(chat_for, backend, 7140)

    await owner.text("/forget")
    question = last_to(owner, "sendMessage").text
    assert question.startswith("Удалить всё, что бот хранит о вас?")
    assert "ваш доступ к 1 медкарте из «Моих людей»" in question
    assert "доступ к вашей медкарте, который вы дали: " in question and "Анна" in question
    assert "отзовите согласие" in question  # the way to keep theirs

    await owner.press(PrivacyCb(action=PrivacyAction.FORGET_CONFIRM).pack())
    assert not await daughter_has_access(backend, 7141)
    owner_requester = requester_id_for(KEYS, 7140)
    assert await backend.list_grants_received(owner_requester) == []

    # The daughter has no own card: only her side is named.
    await daughter.text("/forget")
    daughters = last_to(daughter, "sendMessage").text
    assert "ваш доступ к 1 медкарте" in daughters
    assert "который вы дали" not in daughters and "отзовите согласие" not in daughters


async def test_my_data_shows_who_has_access_and_who_viewed_my_card(
    chat_for: Any, backend: SandboxBackend
) -> None:
    owner, _daughter = await owner_and_daughter(chat_for, backend, 7150)
    await owner.text("/privacy")
    screen = last_to(owner, "sendMessage")
    labels = [t for t, _ in buttons(screen.reply_markup)]
    assert labels[:2] == ["🔑 У кого есть доступ к моей медкарте", "👁 Кто смотрел мою медкарту"]

    await owner.press(button(screen.reply_markup, "👁 Кто смотрел мою медкарту"))
    journal = last_to(owner, "sendMessage")
    assert journal.text.startswith("<b>👁 Кто смотрел мою медкарту</b>")
    assert journal.protect_content is True
    assert "Анна" in journal.text  # the city's log: access granted to her

    # It is part of "My data": it works without consent too.
    await owner.press(WITHDRAW_CONFIRM)
    await owner.press(PrivacyCb(action=PrivacyAction.JOURNAL).pack())
    assert last_to(owner, "sendMessage").text.startswith("<b>👁 Кто смотрел мою медкарту</b>")

    # Without an own card there is nothing to show: no such buttons.
    other: Chat = await chat_for(7152)
    await other.text("/privacy")
    labels = [t for t, _ in buttons(last_to(other, "sendMessage").reply_markup)]
    assert labels == ["Отозвать согласие", "Удалить мои данные"]


async def test_find_given_knows_only_live_grants_of_this_owner(
    chat_for: Any, backend: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    """The service: `find_given` resolves only live grants of this owner."""
    owner, _daughter = await owner_and_daughter(chat_for, backend, 7160)
    ref = AccessCb.unpack(
        owner.security_alert(7160).reply_markup.inline_keyboard[0][0].callback_data
    ).ref
    requester = Requester(id=requester_id_for(KEYS, 7160), display_name="Галина")
    async with sessionmaker() as db:
        user = (await people_rows(sessionmaker, 7160))[0].user_id
        row = await db.get(User, user)
        assert row is not None
        cipher = FieldCipher(KEYS)
        grant = await people_service.find_given(db, backend, cipher, row, requester, ref, TEST_NOW)
        assert grant is not None and "Анна" in grant.requester_name
        assert await people_service.revoke_all_given(db, backend, row, requester, TEST_NOW) == 1
        assert (
            await people_service.find_given(db, backend, cipher, row, requester, ref, TEST_NOW)
            is None
        )
