"""Telegram's HTML parse mode: visible text plus entities, with Telegram's error texts.

Mirrors tdlib's `parse_html` closely enough to reject what Telegram rejects. One deliberate
difference: by default a bare `&` that is not an entity is an error here (Telegram keeps it
literally), because in this project it always means a value was interpolated unescaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.emulator.errors import ApiError, bad_request

Entity = dict[str, Any]

_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n"


def utf16_len(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units, as Telegram does."""
    return len(text.encode("utf-16-le")) // 2


def _parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


@dataclass
class _OpenTag:
    name: str
    offset: int
    argument: str | None


class _HtmlParser:
    def __init__(self, source: str, *, strict_ampersand: bool) -> None:
        self.source = source
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.length = 0  # of the visible text so far, in UTF-16 units
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def run(self) -> tuple[str, list[Entity]]:
        src, i = self.source, 0
        while i < len(src):
            ch = src[i]
            if ch == "&":
                i = self.ampersand(i)
            elif ch != "<":
                self.emit(ch)
                i += 1
            elif src.startswith("</", i):
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
        if self.stack:
            raise _parse_error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def ampersand(self, i: int) -> int:
        decoded, end = decode_html_entity(self.source, i)
        if decoded is not None:
            self.emit(decoded)
            return end
        if self.strict_ampersand:
            raise _parse_error(
                f'unescaped "&" at byte offset {self.byte_offset(i)}; use &amp; instead'
            )
        self.emit("&")
        return i + 1

    def start_tag(self, begin: int) -> int:
        src, i = self.source, begin + 1
        while i < len(src) and src[i] not in _SPACES and src[i] != ">":
            i += 1
        if i >= len(src):
            raise _parse_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = src[begin + 1 : i].lower()
        if name not in _TAG_TYPES:
            raise _parse_error(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        argument: str | None = None
        while True:
            while i < len(src) and src[i] in _SPACES:
                i += 1
            if i >= len(src):
                raise _parse_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if src[i] == ">":
                i += 1
                break
            attr_name, value, i = self.attribute(begin, name, i)
            argument = _tag_argument(name, attr_name, value, argument)
        if name == "span" and argument != "spoiler":
            raise _parse_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        self.stack.append(_OpenTag(name, self.length, argument))
        return i

    def attribute(self, begin: int, tag: str, i: int) -> tuple[str, str, int]:
        src = self.source
        start = i
        while i < len(src) and src[i] not in _SPACES and src[i] not in "=>":
            i += 1
        attr_name = src[start:i].lower()
        if not attr_name:
            raise _parse_error(
                f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(begin)}'
            )
        while i < len(src) and src[i] in _SPACES:
            i += 1
        if i >= len(src) or src[i] != "=":
            return attr_name, "", i  # a bare attribute such as <blockquote expandable>
        i += 1
        while i < len(src) and src[i] in _SPACES:
            i += 1
        if i >= len(src):
            raise _parse_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        value: list[str] = []
        if src[i] in "'\"":
            quote = src[i]
            i += 1
            while i < len(src) and src[i] != quote:
                if src[i] == "&":
                    decoded, end = decode_html_entity(src, i)
                    if decoded is not None:
                        value.append(decoded)
                        i = end
                        continue
                value.append(src[i])
                i += 1
            i += 1
        else:
            while i < len(src) and src[i] not in _SPACES and src[i] != ">":
                value.append(src[i])
                i += 1
        if i > len(src):
            raise _parse_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        return attr_name, "".join(value), i

    def end_tag(self, begin: int) -> int:
        src, i = self.source, begin + 2
        if not self.stack:
            raise _parse_error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        while i < len(src) and src[i] not in _SPACES and src[i] != ">":
            i += 1
        end_name = src[begin + 2 : i].lower()
        while i < len(src) and src[i] in _SPACES:
            i += 1
        if i >= len(src) or src[i] != ">":
            raise _parse_error(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        opened = self.stack.pop()
        if end_name and end_name != opened.name:
            raise _parse_error(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{opened.name}>", found "</{end_name}>"'
            )
        self.close(opened)
        return i + 1

    def close(self, opened: _OpenTag) -> None:
        length = self.length - opened.offset
        if length <= 0:
            return
        entity: Entity = {
            "type": _TAG_TYPES[opened.name],
            "offset": opened.offset,
            "length": length,
        }
        if opened.name == "a":
            if not opened.argument:
                return
            entity["url"] = opened.argument
        elif opened.name == "tg-emoji":
            entity["custom_emoji_id"] = opened.argument or ""
        elif opened.name == "blockquote" and opened.argument == "expandable":
            entity["type"] = "expandable_blockquote"
        elif opened.name == "pre":
            # <pre><code class="language-x">…</code></pre> is one pre entity with a language.
            last = self.entities[-1] if self.entities else None
            if (
                last is not None
                and last["type"] == "code"
                and (last["offset"], last["length"]) == (opened.offset, length)
            ):
                self.entities.pop()
                if "language" in last:
                    entity["language"] = last["language"]
        elif opened.name == "code" and opened.argument:
            entity["language"] = opened.argument
        self.entities.append(entity)


def _tag_argument(tag: str, attribute: str, value: str, current: str | None) -> str | None:
    if tag == "a" and attribute == "href":
        return value.strip()
    if tag == "code" and attribute == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and attribute == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and attribute == "emoji-id":
        return value
    if tag == "blockquote" and attribute == "expandable":
        return "expandable"
    return current


def decode_html_entity(source: str, start: int) -> tuple[str | None, int]:
    """Decode `&name;` / `&#123;` / `&#x1F;` at `start`; (None, start) if it is not one."""
    end = source.find(";", start + 1, start + 12)
    if end == -1:
        return None, start
    name = source[start + 1 : end]
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name], end + 1
    code: int | None = None
    if name[:2] in ("#x", "#X") and len(name) > 2:
        try:
            code = int(name[2:], 16)
        except ValueError:
            code = None
    elif name[:1] == "#" and name[1:].isdigit():
        code = int(name[1:])
    if code is None or not (0 < code <= 0x10FFFF) or 0xD800 <= code <= 0xDFFF:
        return None, start
    return chr(code), end + 1


def parse_html(source: str, *, strict_ampersand: bool = True) -> tuple[str, list[Entity]]:
    """Return the visible text and its entities, or raise Telegram's 400 error."""
    return _HtmlParser(source, strict_ampersand=strict_ampersand).run()


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram trims leading/trailing whitespace and shifts the entities with it."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
