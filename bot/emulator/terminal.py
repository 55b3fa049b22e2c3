"""A line-based Telegram chat in the terminal (no curses, works under tmux and with pipes).

Bot messages are printed as they arrive; buttons get numbers. Typing a number presses that
button, `/share` shares the user's phone, `/quit` leaves, anything else is sent as text.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.emulator.formatting import utf16_len
from bot.emulator.markup import keyboard_buttons
from bot.emulator.models import ChatEvent, StoredFile, StoredMessage

if TYPE_CHECKING:
    from bot.emulator.driver import UserDriver
    from bot.emulator.world import EmulatorWorld

LocalCommand = Callable[[], Awaitable[str]]
_INDENT = "     "


@dataclass(frozen=True)
class _Choice:
    text: str
    button: dict[str, Any]
    message_id: int | None  # None for reply-keyboard buttons


def readable_text(text: str, entities: list[dict[str, Any]]) -> str:
    """Plain text as the user reads it; link targets shown after the link text."""
    links = sorted(
        (e for e in entities if e.get("type") == "text_link" and e.get("url")),
        key=lambda e: e["offset"] + e["length"],
        reverse=True,
    )
    for entity in links:
        end = _index_of_utf16(text, entity["offset"] + entity["length"])
        text = f"{text[:end]} ({entity['url']}){text[end:]}"
    return text


def _index_of_utf16(text: str, offset: int) -> int:
    units = 0
    for index, char in enumerate(text):
        if units >= offset:
            return index
        units += utf16_len(char)
    return len(text)


class _ChatView:
    def __init__(self, user: UserDriver, files_dir: Path, output: TextIO) -> None:
        self.user = user
        self.files_dir = files_dir
        self.output = output
        self._shown_keyboard: list[str] | None = None

    def write(self, line: str) -> None:
        self.output.write(line + "\n")
        self.output.flush()

    def choices(self) -> list[_Choice]:
        """Inline buttons of the newest message that has them, then the reply keyboard."""
        found: list[_Choice] = []
        for message in reversed(self.user.messages):
            if message.inline_keyboard:
                found = [
                    _Choice(button["text"], button, message.message_id)
                    for row in message.inline_keyboard
                    for button in row
                ]
                break
        keyboard = keyboard_buttons(self.user.chat.reply_keyboard)
        return found + [_Choice(button["text"], button, None) for button in keyboard]

    def show(self, event: ChatEvent) -> None:
        if event.kind == "callback_answer" and event.answer and event.answer.text:
            label = "alert" if event.answer.show_alert else "popup"
            self.write(f"  [{label}] {event.answer.text}")
        elif event.kind == "delete" and event.message is not None:
            self.write(f"  (message {event.message.message_id} deleted)")
        elif event.kind == "edit" and event.edit is not None and event.message is not None:
            if event.edit.old_text == event.edit.new_text and not event.message.buttons:
                # Only the buttons went away: repeating a long text would bury the chat.
                self.write(f"  (buttons removed from message {event.message.message_id})")
            else:
                self.show_message(event.message, edited=True)
        elif event.kind == "message" and event.message is not None:
            self.show_message(event.message, edited=False)

    def show_message(self, message: StoredMessage, *, edited: bool) -> None:
        head = f"bot ({'edited' if edited else message.message_id}):"
        body = ""
        if message.text is not None:
            body = readable_text(message.text, message.entities)
        elif message.caption is not None:
            body = readable_text(message.caption, message.caption_entities)
        lines = body.splitlines() or [""]
        self.write(f"{head} {lines[0]}")
        for line in lines[1:]:
            self.write(f"{_INDENT}{line}")
        for stored in (message.photo, message.document):
            if stored is not None:
                self.write(f"{_INDENT}[{stored.kind}] {self.save(message, stored)}")
        if message.protect_content:
            self.write(f"{_INDENT}(protected: forwarding and saving disabled)")
        numbered = self.choices()
        inline = [c for c in numbered if c.message_id == message.message_id]
        if inline:
            self.write(_INDENT + self.numbered(numbered, inline))
        markup = message.reply_markup or {}
        if "keyboard" in markup:
            keyboard = [c for c in numbered if c.message_id is None]
            texts = [c.button["text"] for c in keyboard]
            # Bots resend the same menu with many replies; show it when it changes.
            if texts != self._shown_keyboard:
                self._shown_keyboard = texts
                self.write(f"{_INDENT}keyboard: " + self.numbered(numbered, keyboard))
        elif markup.get("remove_keyboard"):
            self._shown_keyboard = None
            self.write(f"{_INDENT}(keyboard hidden)")

    @staticmethod
    def numbered(all_choices: list[_Choice], shown: list[_Choice]) -> str:
        return "  ".join(f"[{all_choices.index(c) + 1}] {c.text}" for c in shown)

    def save(self, message: StoredMessage, stored: StoredFile) -> str:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = stored.file_name or f"photo_{stored.file_unique_id}.jpg"
        path = self.files_dir / f"{message.message_id}_{Path(name).name}"
        path.write_bytes(stored.data)
        return f"{path} ({stored.size} bytes)"


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from stdin, read in a daemon thread so Ctrl+C never waits for Enter."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, "")  # end of input
        except RuntimeError:
            return  # the chat ended and its loop closed while we were reading

    threading.Thread(target=read, name="terminal-stdin", daemon=True).start()
    while line := await lines.get():
        yield line


async def as_async(lines: Iterable[str] | AsyncIterable[str]) -> AsyncIterator[str]:
    if isinstance(lines, AsyncIterable):
        async for line in lines:
            yield line
    else:
        for line in lines:
            yield line


async def chat_lines(
    input_lines: Iterable[str] | AsyncIterable[str] | None,
    write: Callable[[str], None],
    act: Callable[[str], Awaitable[None]],
    *,
    echo: bool,
) -> None:
    """Each of the person's lines (stdin when `input_lines` is None) to `act`, until `/quit` or
    the end; blank ones skipped, echoed when the input is not a terminal. A driver's
    AssertionError (no such button) is said, and the chat goes on."""
    lines = stdin_lines() if input_lines is None else as_async(input_lines)
    async for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if echo:
            write(f"you: {line}")
        if line == "/quit":
            return
        try:
            await act(line)
        except AssertionError as problem:
            write(f"  ({problem})")


async def run_terminal_chat(
    world: EmulatorWorld,
    user: UserDriver,
    *,
    files_dir: Path | str,
    phone: str | None,
    extra_commands: Mapping[str, LocalCommand] | None = None,
    input_lines: Iterable[str] | AsyncIterable[str] | None = None,
    output: TextIO = sys.stdout,
) -> None:
    """Chat with the bot as `user` until `/quit` or the end of input."""
    view = _ChatView(user, Path(files_dir), output)
    commands = dict(extra_commands or {})
    echo = input_lines is not None or not sys.stdin.isatty()
    queue = world.subscribe(user.id)

    def flush() -> None:
        while not queue.empty():
            view.show(queue.get_nowait())

    async def print_as_they_come() -> None:
        while True:
            view.show(await queue.get())

    view.write(
        "Chat with the bot. A number presses a button; /share sends your phone; "
        "/buttons lists buttons; " + "".join(f"{name} " for name in commands) + "/quit leaves."
    )
    printer = asyncio.create_task(print_as_they_come())

    async def act(line: str) -> None:
        try:
            await _act(line, user, view, commands, phone)
        finally:
            flush()

    try:
        await chat_lines(input_lines, view.write, act, echo=echo)
        await user.wait_idle()
    finally:
        printer.cancel()
        await asyncio.gather(printer, return_exceptions=True)
        flush()
        world.unsubscribe(user.id, queue)


_BUTTON_NUMBER_DIGITS = 2


async def _act(
    line: str,
    user: UserDriver,
    view: _ChatView,
    commands: Mapping[str, LocalCommand],
    phone: str | None,
) -> None:
    # A short number presses a button; longer ones (a policy, a code) are text to send.
    if line.isdigit() and len(line) <= _BUTTON_NUMBER_DIGITS:
        await _press_number(int(line), user, view, phone)
    elif line == "/share":
        await user.share_contact(phone)
    elif line == "/buttons":
        choices = view.choices()
        view.write(_INDENT + (view.numbered(choices, choices) or "(no buttons)"))
    elif line in commands:
        view.write(await commands[line]())
    else:
        await user.send_text(line)


async def _press_number(number: int, user: UserDriver, view: _ChatView, phone: str | None) -> None:
    choices = view.choices()
    if not 1 <= number <= len(choices):
        view.write(f"  (no button {number}; there are {len(choices)})")
        return
    choice = choices[number - 1]
    button = choice.button
    if choice.message_id is not None:
        if "callback_data" in button:
            await user.press_data(choice.message_id, button["callback_data"])
        else:
            view.write(f"  (opens {button.get('url') or 'something outside the chat'})")
    elif button.get("request_contact"):
        await user.share_contact(phone)
    else:
        await user.send_text(choice.text)
