"""MAX text formatting: `format=html|markdown` text becomes plain text plus `markup`.

MAX returns the plain text in `body.text` and the styles as `markup` elements with UTF-16
offsets (`from`, `length`). HTML: the tags MAX lists are applied, any other tag is stripped
(MAX does not reject it). Markdown: MAX's flavour, one level deep (no nesting).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.max_emulator.models import Json

_HTML_STYLES = {
    "b": "strong",
    "strong": "strong",
    "i": "emphasized",
    "em": "emphasized",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "del": "strikethrough",
    "code": "monospaced",
    "pre": "monospaced",
    "mark": "highlighted",
    "h1": "heading",
    "blockquote": "quote",
    "a": "link",
}
_MENTION = "max://user/"
_MARKDOWN = re.compile(
    r"\*\*(?P<strong>.+?)\*\*|__(?P<strong2>.+?)__|~~(?P<strikethrough>.+?)~~"
    r"|\+\+(?P<underline>.+?)\+\+|\^\^(?P<highlighted>.+?)\^\^|```(?P<block>.+?)```"
    r"|`(?P<monospaced>[^`]+)`|\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)"
    r"|\*(?P<emphasized>[^*]+)\*|_(?P<emphasized2>[^_]+)_",
    re.DOTALL,
)
_HEADING = re.compile(r"^# (.+)$", re.MULTILINE)


def utf16_len(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def render(text: str, text_format: str | None) -> tuple[str, list[Json]]:
    """Plain text and MAX markup for `text` sent with `format=text_format`."""
    if text_format == "html":
        return _render_html(text)
    if text_format == "markdown":
        return _render_markdown(text)
    return text, []


def _link_markup(url: str, start: int, length: int) -> Json:
    if url.startswith(_MENTION) and url[len(_MENTION) :].isdigit():
        user_id = int(url[len(_MENTION) :])
        return {"type": "user_mention", "from": start, "length": length, "user_id": user_id}
    return {"type": "link", "from": start, "length": length, "url": url}


class _HtmlToMarkup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.position = 0  # UTF-16 units written so far
        self.open: list[tuple[str, int, str]] = []  # (tag, start, href)
        self.markup: list[Json] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")
        elif tag in _HTML_STYLES:
            self.open.append((tag, self.position, dict(attrs).get("href") or ""))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                _, start, href = self.open.pop(index)
                length = self.position - start
                if length > 0:
                    style = _HTML_STYLES[tag]
                    self.markup.append(
                        _link_markup(href, start, length)
                        if style == "link"
                        else {"type": style, "from": start, "length": length}
                    )
                return

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.position += utf16_len(data)


def _render_html(text: str) -> tuple[str, list[Json]]:
    parser = _HtmlToMarkup()
    parser.feed(text)
    parser.close()
    markup = sorted(parser.markup, key=lambda m: (m["from"], -m["length"]))
    return "".join(parser.parts), markup


def _render_markdown(text: str) -> tuple[str, list[Json]]:
    parts: list[str] = []
    markup: list[Json] = []
    position = 0
    cursor = 0
    for match in _MARKDOWN.finditer(text):
        before = text[cursor : match.start()]
        parts.append(before)
        position += utf16_len(before)
        name, inner = next((k, v) for k, v in match.groupdict().items() if v is not None)
        if name == "label":
            url = match.group("url")
            markup.append(_link_markup(url, position, utf16_len(inner)))
        else:
            style = {"strong2": "strong", "emphasized2": "emphasized", "block": "monospaced"}
            kind = style.get(name, name)
            markup.append({"type": kind, "from": position, "length": utf16_len(inner)})
        parts.append(inner)
        position += utf16_len(inner)
        cursor = match.end()
    parts.append(text[cursor:])
    plain = "".join(parts)
    # Headings are whole lines: mark them on the plain text and drop the "# ".
    return _headings(plain, markup)


def _headings(plain: str, markup: list[Json]) -> tuple[str, list[Json]]:
    for match in reversed(list(_HEADING.finditer(plain))):
        start = utf16_len(plain[: match.start()])
        for element in markup:
            if element["from"] >= start:
                element["from"] -= 2
        markup.append({"type": "heading", "from": start, "length": utf16_len(match.group(1))})
        plain = plain[: match.start()] + match.group(1) + plain[match.end() :]
    return plain, sorted(markup, key=lambda m: (m["from"], -m["length"]))
