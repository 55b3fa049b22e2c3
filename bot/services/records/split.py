"""Splitting Telegram HTML into messages that fit the 4096-character limit.

Cuts only between tokens (tags, entities, words, whitespace), preferring a blank line, then a
line break, then a space; tags still open at a cut are closed and reopened in the next chunk, so
every chunk is valid HTML on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TELEGRAM_LIMIT = 4096

_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|\n\n+|\n|[ \t]+|[^<&\s]+|[<&]")
_TAG = re.compile(r"<(/?)([a-zA-Z0-9-]+)[^>]*>")


@dataclass
class _Chunk:
    tokens: list[str] = field(default_factory=list)
    length: int = 0
    opened_with: list[str] = field(default_factory=list)
    """The opening tags this chunk starts with (reopened after a cut)."""


def _word_pieces(token: str, room: int) -> list[str]:
    """A single word longer than a whole message: cut into pieces of at most `room` chars."""
    return [token[i : i + room] for i in range(0, len(token), room)]


def split_html(html: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The HTML as a list of chunks, each at most `limit` characters and balanced."""
    tokens = _TOKEN.findall(html)
    chunks: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, opening tag text)
    current: list[str] = []
    size = 0

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    def flush(upto: int) -> None:
        """Emit current[:upto] as a chunk and keep the rest (re-balanced) for the next one."""
        nonlocal current, size
        head, tail = current[:upto], current[upto:]
        # Tags open at the cut: those open after replaying `head` from the chunk's start.
        open_at_cut = _open_after(head)
        text = "".join(head).rstrip() + "".join(f"</{n}>" for n, _ in reversed(open_at_cut))
        if _TAG.sub("", text).strip():
            chunks.append(text)
        while tail and tail[0].isspace():
            tail.pop(0)
        current = [tag for _, tag in open_at_cut] + tail
        size = sum(len(t) for t in current)

    for token in tokens:
        pieces = [token]
        if not token.startswith(("<", "&")) and len(token) > limit // 2:
            pieces = _word_pieces(token, limit // 2)
        for piece in pieces:
            if size + len(piece) + len(closing()) > limit:
                flush(_best_cut(current))
                if size + len(piece) + len(closing()) > limit:
                    flush(len(current))
            current.append(piece)
            size += len(piece)
            match = _TAG.fullmatch(piece)
            if match:
                if match.group(1):
                    if stack and stack[-1][0] == match.group(2):
                        stack.pop()
                else:
                    stack.append((match.group(2), piece))
    flush(len(current))
    return chunks


def _open_after(tokens: list[str]) -> list[tuple[str, str]]:
    stack: list[tuple[str, str]] = []
    for token in tokens:
        match = _TAG.fullmatch(token)
        if not match:
            continue
        if match.group(1):
            if stack and stack[-1][0] == match.group(2):
                stack.pop()
        else:
            stack.append((match.group(2), token))
    return stack


def _best_cut(tokens: list[str]) -> int:
    """Index to cut before: after the last paragraph break, else line break, else space."""
    for kind in ("\n\n", "\n", " "):
        for index in range(len(tokens) - 1, 0, -1):
            token = tokens[index]
            if (kind == " " and token.isspace() and "\n" not in token) or (
                kind != " " and token.startswith(kind)
            ):
                if index > len(tokens) // 4 or kind == " ":
                    return index + 1
                break
    return len(tokens)
