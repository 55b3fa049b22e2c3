"""Scripted users: people who tap and type through the emulator, one action at a time, and
the ledger of every action they took (its update id, when, and in which scenario).

A user waits for the bot's answer to an action before the next one, as a person does, so
every call the replicas make to a chat between two of its user's actions answers the first
of them; callback answers are matched exactly by their query id.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.emulator.driver import UserDriver
from bot.emulator.markup import inline_buttons, keyboard_buttons
from bot.emulator.models import StoredMessage
from faultkit.telegram import Call, FakeTelegram
from faultkit.topology import REPLICAS

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}")


@dataclass
class Action:
    user: str
    chat_id: int
    label: str  # what the user did, e.g. "text 🗓 My appointments"
    kind: str  # "message" or "callback"
    scenario: str
    update_id: int | None
    query_id: str | None
    sent_at: float
    probe: bool  # a repeated probe with a known answer size (counted for handled twice)
    # One of several presses made at once (a flood): the scenario judges each by its query id,
    # the per-action windows below do not apply.
    gesture: bool = False


@dataclass
class Ledger:
    actions: list[Action] = field(default_factory=list)
    scenario: str = "setup"

    def add(self, action: Action) -> None:
        self.actions.append(action)


@dataclass(frozen=True)
class Persona:
    name: str
    policy: str
    birth_date: str  # dd.mm.yyyy, as typed
    phone: str


class NoButton(AssertionError):
    pass


class ScriptedUser:
    def __init__(
        self,
        telegram: FakeTelegram,
        ledger: Ledger,
        persona: Persona,
        telegram_id: int,
        *,
        label: str,
        answer_timeout: float = 45.0,
    ) -> None:
        self.telegram = telegram
        self.ledger = ledger
        self.persona = persona
        self.name = label  # what the suite prints: "u1", not the persona's name
        self.answer_timeout = answer_timeout
        self.driver: UserDriver = telegram.world.user(
            telegram_id, persona.name, language_code="en", phone=persona.phone
        )
        self.last_action: Action | None = None

    @property
    def chat_id(self) -> int:
        return self.driver.id

    @property
    def messages(self) -> list[StoredMessage]:
        return self.driver.messages

    def last_text(self) -> str:
        messages = self.messages
        return (messages[-1].text or messages[-1].caption or "") if messages else ""

    # ----- acting -----------------------------------------------------------------------

    def _record(
        self,
        label: str,
        kind: str,
        update_id: int | None,
        query_id: str | None,
        probe: bool,
        *,
        gesture: bool = False,
    ) -> Action:
        loop = asyncio.get_running_loop()
        action = Action(
            self.name,
            self.chat_id,
            label,
            kind,
            self.ledger.scenario,
            update_id,
            query_id,
            loop.time(),
            probe,
            gesture,
        )
        self.ledger.add(action)
        self.last_action = action
        return action

    def send_text(self, text: str, *, probe: bool = False, label: str | None = None) -> Action:
        entities = []
        if match := _COMMAND.match(text):
            entities = [{"type": "bot_command", "offset": 0, "length": match.end()}]
        _, update_id = self.telegram.world.user_message(self.chat_id, text=text, entities=entities)
        return self._record(label or f"text {text}", "message", update_id, None, probe)

    def share_contact(self) -> Action:
        contact = {
            "phone_number": self.persona.phone,
            "first_name": self.persona.name,
            "user_id": self.chat_id,
        }
        _, update_id = self.telegram.world.user_message(self.chat_id, contact=contact)
        return self._record("contact", "message", update_id, None, False)

    def press(self, text: str, *, probe: bool = False) -> Action:
        """An inline button by its text (newest message first), else the reply keyboard."""
        for message in reversed(self.messages):
            button = message.button(text)
            if button is not None and "callback_data" in button:
                return self.press_data(message, str(button["callback_data"]), text, probe=probe)
        for button in keyboard_buttons(self.driver.chat.reply_keyboard):
            if button["text"] == text:
                if button.get("request_contact"):
                    return self.share_contact()
                return self.send_text(text, probe=probe)
        raise NoButton(f"{self.name}: no button {text!r}; sees:\n{self.driver.describe_buttons()}")

    def press_where(
        self, test: Callable[[str, str], bool], label: str, *, probe: bool = False
    ) -> Action:
        """The first inline button of the newest message with one whose (text, data) passes."""
        for message in reversed(self.messages):
            for button in inline_buttons(message.reply_markup):
                data = str(button.get("callback_data", ""))
                if data and test(str(button["text"]), data):
                    return self.press_data(message, data, label, probe=probe)
        raise NoButton(
            f"{self.name}: no button for {label}; sees:\n{self.driver.describe_buttons()}"
        )

    def press_data(
        self,
        message: StoredMessage,
        data: str,
        label: str,
        *,
        probe: bool = False,
        gesture: bool = False,
    ) -> Action:
        query, update_id = self.telegram.world.user_callback(self.chat_id, message.message_id, data)
        return self._record(
            f"press {label}", "callback", update_id, query.id, probe, gesture=gesture
        )

    # ----- waiting ----------------------------------------------------------------------

    def replies_since(self, action: Action) -> list[Call]:
        return [
            c
            for c in self.telegram.calls
            if c.chat_id == self.chat_id and c.at >= action.sent_at and c.source in REPLICAS
        ]

    async def settle(
        self,
        action: Action,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        quiet: float = 0.35,
    ) -> bool:
        """Wait for the answer to `action` (a visible reply, and for a button its callback
        answer), then for the chat to go quiet; False if nothing came within `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout or self.answer_timeout)

        def answered() -> bool:
            calls = self.replies_since(action)
            if not any(c.visible for c in calls):
                return False
            if action.kind == "callback":
                return any(
                    c.method == "answercallbackquery" and c.query_id == action.query_id
                    for c in calls
                )
            return True

        while not answered():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await self.telegram.wait_change(min(remaining, 1.0))
        # Then quiet: a flow may send more than one message.
        quiet_deadline = min(deadline, loop.time() + 10.0)
        while loop.time() < quiet_deadline:
            calls = self.replies_since(action)
            idle = loop.time() - (calls[-1].at if calls else action.sent_at)
            if idle >= quiet:
                break
            await asyncio.sleep(quiet - idle)
        return True

    async def do(self, make: Callable[[], Action], *, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Take one action and wait for its answer."""
        return await self.settle(make(), timeout=timeout)

    async def step(self, make: Callable[[], Action], what: str) -> None:
        """A setup step that must work (the system is healthy then)."""
        if not await self.do(make, timeout=30):
            raise RuntimeError(f"{self.name}: no answer to {what}; last: {self.last_text()[:80]!r}")
