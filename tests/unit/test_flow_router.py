"""The channel-neutral router (`bot.flows.router`) without a messenger: what each kind of
input leads to, the consent gate, forged and stale ids, sensitive text deleted, /cancel; and
who a MAX user is to the backend and to the owner's SMS (never a Telegram user's twin)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.db.models import MAX, TELEGRAM, User
from bot.flows import router
from bot.flows.inputs import Command, Contact, Input, Media, Press, Started, Text, parse_text
from bot.flows.screens import Placement, Screen
from bot.keys import AppKeys
from bot.services import linking_sms
from bot.services.users import get_or_create_user, give_consent, set_language
from bot.settings import Settings
from tests.unit.flow_context import DictMemory, english_context


class Recorded:
    """An `Answer` that keeps what it was asked to do."""

    def __init__(self) -> None:
        self.screens: list[Screen] = []
        self.deleted = 0
        self.more = 0

    async def show(self, screens: Sequence[Screen]) -> bool:
        self.screens.extend(screens)
        return True

    async def delete_input(self) -> None:
        self.deleted += 1

    def more_time(self) -> None:
        self.more += 1

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.screens]


def person(now: datetime, *, language: str | None = "en", consent: bool = True) -> User:
    user = User(telegram_id=5001, channel=MAX, created_at=now, last_seen_at=now)
    if language is not None:
        set_language(user, language)
    if consent:
        give_consent(user, now)
    return user


async def answer_to(
    user: User,
    clock: FrozenClock,
    event: Input,
    *,
    session: AsyncSession | None = None,
    memory: DictMemory | None = None,
) -> Recorded:
    """What the router answers `event` with (a session only where the step reads one)."""
    answer = Recorded()
    ctx = english_context(user, session, clock)
    await router.handle(ctx, memory or DictMemory(), event, answer)
    return answer


def test_typed_text_is_a_command_or_text() -> None:
    assert parse_text("/start") == Command("start")
    assert parse_text("/Records@emk_bot  now ") == Command("records", "now")
    assert parse_text("/") == Text("/")
    assert parse_text("/1234") == Text("/1234")
    assert parse_text("к окулисту") == Text("к окулисту")


async def test_started_asks_for_a_language_first(clock: FrozenClock) -> None:
    answer = await answer_to(person(clock(), language=None, consent=False), clock, Started())
    assert answer.texts == ["Выберите язык / Choose your language:"]
    assert [b.action for b in answer.screens[0].buttons] == ["lang:ru", "lang:en"]


async def test_before_consent_a_press_is_refused_and_text_asks_again(clock: FrozenClock) -> None:
    user = person(clock(), consent=False)
    pressed = await answer_to(user, clock, Press("menu:records"))
    assert pressed.screens == [
        Screen("Please give consent first: send /start.", placement=Placement.ALERT)
    ]
    typed = await answer_to(user, clock, Text("1234 5678 9012 3456"))
    assert typed.deleted == 1  # a policy number does not stay in the chat
    assert typed.texts[0].startswith("Message deleted: it looks like a policy number")
    assert "Do you agree?" in typed.texts[0]


async def test_help_works_before_and_after_consent(clock: FrozenClock, settings: Settings) -> None:
    for consent in (False, True):
        answer = Recorded()
        ctx = english_context(person(clock(), consent=consent), None, clock, settings=settings)
        await router.handle(ctx, DictMemory(), Command("help"), answer)
        assert "What this bot does" in answer.texts[0]
        assert "If something does not work" in answer.texts[0]


async def test_forged_and_stale_ids_are_out_of_date(clock: FrozenClock) -> None:
    user = person(clock())
    for forged in ("", "menu:nope", "ns:zz:1", "lang:xx:1", "acc:r:x", "rh:notanumber", "🙂"):
        answer = await answer_to(user, clock, Press(forged))
        assert answer.screens == [
            Screen("This button is out of date. Use the menu.", placement=Placement.ALERT)
        ], forged


async def test_a_language_nobody_offers_changes_nothing(clock: FrozenClock) -> None:
    user = person(clock())
    answer = await answer_to(user, clock, Press("lang:xx"))
    assert answer.screens == [Screen("This button is out of date.", placement=Placement.ALERT)]
    assert user.language == "en"


async def test_anything_else_is_not_understood_with_the_menu(clock: FrozenClock) -> None:
    user = person(clock())
    for event in (Text("спасибо"), Text(""), Contact("+79990000001", own=True), Command("zz")):
        answer = await answer_to(user, clock, event)
        [screen] = answer.screens
        assert screen.text == "I did not understand that. Use the menu below, or /help."
        assert screen.menu is not None and answer.deleted == 0
    code = await answer_to(user, clock, Text("097 117"))
    assert code.deleted == 1 and code.texts[0].startswith("Message deleted: it looks like a one")


async def test_words_asking_for_help_get_the_help_and_where_to_turn(
    clock: FrozenClock, settings: Settings
) -> None:
    answer = Recorded()
    ctx = english_context(person(clock()), None, clock, settings=settings)
    await router.handle(ctx, DictMemory(), Text("помогите не могу войти"), answer)
    [screen] = answer.screens
    assert "What this bot does" in screen.text and "If something does not work" in screen.text
    assert "support" not in screen.text.lower()  # no SUPPORT_CONTACT set: no support line


async def test_a_voice_message_or_a_sticker_is_answered_plainly(clock: FrozenClock) -> None:
    answer = await answer_to(person(clock()), clock, Media("voice"))
    [screen] = answer.screens
    assert screen.text.startswith("I cannot listen to voice messages") and screen.menu


async def test_the_menu_button_brings_the_menu_back(clock: FrozenClock) -> None:
    answer = await answer_to(person(clock()), clock, Press(router.MAIN_MENU.action))
    [screen] = answer.screens
    assert screen.menu is not None and screen.placement is Placement.NEW


async def test_cancel_ends_the_conversation_and_says_so(
    clock: FrozenClock, sessionmaker: SessionMaker
) -> None:
    async with sessionmaker() as session:
        user = await get_or_create_user(session, 5002, clock(), channel=MAX)
        set_language(user, "en")
        give_consent(user, clock())
        memory = DictMemory()
        await memory.set_state("LinkFlow:policy")
        first = await answer_to(user, clock, Command("cancel"), session=session, memory=memory)
        again = await answer_to(user, clock, Command("cancel"), session=session, memory=memory)
    assert first.texts == ["Cancelled."] and memory.state is None
    assert again.texts == ["Nothing to cancel."]


def test_a_max_user_is_not_the_telegram_user_with_the_same_id(keys: AppKeys) -> None:
    now = datetime(2026, 12, 3)
    on_telegram = User(telegram_id=42, channel=TELEGRAM, created_at=now, last_seen_at=now)
    on_max = User(telegram_id=42, channel=MAX, created_at=now, last_seen_at=now)
    assert on_telegram.messenger_key == "42" and on_max.messenger_key == "max:42"
    telegram_id = requester_id_for(keys, on_telegram.messenger_key)
    assert telegram_id == requester_id_for(keys, 42)  # Telegram users keep their grants
    assert telegram_id.startswith("tg-")
    assert requester_id_for(keys, on_max.messenger_key).startswith("max-")
    assert requester_id_for(keys, on_max.messenger_key)[4:] != telegram_id[3:]


@pytest.mark.parametrize(
    ("channel", "named"),
    [
        (TELEGRAM, "Пользователь Telegram «Анна» (имя не проверено)"),
        (MAX, "Пользователь MAX «Анна» (имя не проверено)"),
    ],
)
def test_the_owners_sms_names_the_messenger_the_requester_uses(channel: str, named: str) -> None:
    assert linking_sms.unverified_requester_name("Анна", channel) == named
    assert linking_sms.unverified_requester_name("", channel).endswith("без имени")
