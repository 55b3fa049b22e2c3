"""A line-based MAX chat in the terminal, as `bot.emulator.terminal` is for Telegram.

New bot messages and edits are printed as they arrive (a notification from the worker too),
with the buttons of the newest message numbered; typing a number presses that button (the
contact button shares the user's phone), `/start` presses MAX's Start, `/quit` leaves, anything
else is sent as text. Files the bot sends are saved under `files_dir`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TextIO

from bot.emulator.terminal import chat_lines
from bot.max_emulator.driver import MaxUserDriver
from bot.max_emulator.models import StoredMessage

LocalCommand = Callable[[], Awaitable[str]]
_INDENT = "     "
_BUTTON_NUMBER_DIGITS = 2


class _MaxChatView:
    def __init__(self, user: MaxUserDriver, files_dir: Path, output: TextIO) -> None:
        self.user = user
        self.files_dir = files_dir
        self.output = output
        self._seen: dict[str, tuple[int, str]] = {}  # message id -> (revision, text) printed
        self._notices = 0
        self._files = 0

    def write(self, line: str) -> None:
        self.output.write(line + "\n")
        self.output.flush()

    def newest_with_buttons(self) -> StoredMessage | None:
        return next((m for m in reversed(self.user.messages) if m.keyboard), None)

    def catch_up(self) -> None:
        """Print what changed since the last look: notices, new or edited messages, files."""
        notices = self.user.notifications
        for text in notices[self._notices :]:
            self.write(f"  [notice] {text}")
        self._notices = len(notices)
        for message in self.user.messages:
            before = self._seen.get(message.mid)
            if before is not None and before[0] == message.revision:
                continue
            self._seen[message.mid] = (message.revision, message.text or "")
            if before is not None and before[1] == (message.text or "") and not message.keyboard:
                # Only the buttons went away: repeating a long text would bury the chat.
                self.write(f"  (buttons removed from message {message.seq})")
                continue
            self._show(message, edited=before is not None)
        files = self.user.files
        for attachment in files[self._files :]:
            self.write(f"{_INDENT}[file] {self._save(attachment)}")
        self._files = len(files)

    def _show(self, message: StoredMessage, *, edited: bool) -> None:
        lines = (message.text or "").splitlines() or [""]
        self.write(f"bot ({'edited' if edited else message.seq}): {lines[0]}")
        for line in lines[1:]:
            self.write(f"{_INDENT}{line}")
        if message is self.newest_with_buttons():
            self.write(_INDENT + self.numbered(message))

    @staticmethod
    def numbered(message: StoredMessage) -> str:
        return "  ".join(f"[{n}] {text}" for n, text in enumerate(message.buttons, 1))

    def _save(self, attachment: dict[str, object]) -> str:
        data = self.user.download(attachment)
        payload = attachment.get("payload")
        name = "file"
        if isinstance(payload, dict) and payload.get("filename"):
            name = str(payload["filename"])
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{self._files + 1:03d}_{Path(name).name}"
        path.write_bytes(data)
        return f"{path} ({len(data)} bytes)"


async def run_max_terminal_chat(
    user: MaxUserDriver,
    *,
    files_dir: Path | str,
    extra_commands: Mapping[str, LocalCommand] | None = None,
    input_lines: Iterable[str] | AsyncIterable[str] | None = None,
    output: TextIO = sys.stdout,
) -> None:
    """Chat with the bot as `user` until `/quit` or the end of input."""
    view = _MaxChatView(user, Path(files_dir), output)
    commands = dict(extra_commands or {})
    echo = input_lines is not None or not sys.stdin.isatty()

    async def print_as_they_come() -> None:
        while True:  # notifications from the worker arrive between the user's actions
            await user.world.signal.changed(1.0)
            view.catch_up()

    view.write(
        "Chat with the bot (MAX). /start presses Start; a number presses a button; "
        + "".join(f"{name} " for name in commands)
        + "/quit leaves."
    )
    printer = asyncio.create_task(print_as_they_come())

    async def act(line: str) -> None:
        try:
            await _act(line, user, view, commands)
        finally:
            view.catch_up()

    try:
        await chat_lines(input_lines, view.write, act, echo=echo)
    finally:
        printer.cancel()
        await asyncio.gather(printer, return_exceptions=True)
        view.catch_up()


async def _act(
    line: str, user: MaxUserDriver, view: _MaxChatView, commands: Mapping[str, LocalCommand]
) -> None:
    # A short number presses a button; longer ones (a policy, a code) are text to send.
    if line.isdigit() and len(line) <= _BUTTON_NUMBER_DIGITS:
        message = view.newest_with_buttons()
        names = message.buttons if message is not None else []
        if not 1 <= int(line) <= len(names):
            view.write(f"  (no button {line}; there are {len(names)})")
            return
        await user.press(names[int(line) - 1])
    elif line == "/start":
        await user.start()
    elif line in commands:
        view.write(await commands[line]())
    else:
        await user.send_text(line)
