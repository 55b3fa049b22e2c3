"""Telegram's HTML parse mode: visible text and entities (offsets in UTF-16 units)."""

from __future__ import annotations

import pytest

from bot.emulator.errors import ApiError
from bot.emulator.formatting import parse_html, strip_text


def test_nested_tags_and_entities() -> None:
    text, entities = parse_html("<b>Врач <i>Иванова</i></b> &amp; &lt;кабинет&gt; &#128512;&#x21;")
    assert text == "Врач Иванова & <кабинет> 😀!"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 12},
        {"type": "italic", "offset": 5, "length": 7},
    ]


def test_offsets_count_utf16_units() -> None:
    text, entities = parse_html("😀 <u>да</u>")
    assert text == "😀 да"
    assert entities == [{"type": "underline", "offset": 3, "length": 2}]


def test_links_code_blocks_spoilers_quotes() -> None:
    source = (
        '<a href="https://example.org/?a=1&amp;b=2">сайт</a> '
        '<pre><code class="language-python">x = 1</code></pre> '
        '<span class="tg-spoiler">тайна</span> <tg-spoiler>ещё</tg-spoiler> '
        "<blockquote expandable>цитата</blockquote> <code>c</code> <s>s</s> <ins>u</ins>"
    )
    text, entities = parse_html(source)
    assert text == "сайт x = 1 тайна ещё цитата c s u"
    by_type = {e["type"]: e for e in entities}
    assert by_type["text_link"]["url"] == "https://example.org/?a=1&b=2"
    assert by_type["pre"] == {"type": "pre", "offset": 5, "length": 5, "language": "python"}
    assert [e["offset"] for e in entities if e["type"] == "spoiler"] == [11, 17]
    assert by_type["expandable_blockquote"]["length"] == 6
    assert {"code", "strikethrough", "underline"} <= by_type.keys()


def test_tags_are_case_insensitive_and_empty_tags_make_no_entity() -> None:
    assert parse_html("<B>x</B><i></i>") == ("x", [{"type": "bold", "offset": 0, "length": 1}])


@pytest.mark.parametrize(
    "source",
    ["<b>", "<br>", "<b>x</i>", "a < b", "AT&T", "&nbsp;", "<a href='x'", "x</b>", "<b x"],
)
def test_invalid_html(source: str) -> None:
    with pytest.raises(ApiError) as error:
        parse_html(source)
    assert error.value.status == 400
    assert error.value.description.startswith("Bad Request: can't parse entities: ")


def test_lenient_ampersand_like_telegram_when_asked() -> None:
    assert parse_html("AT&T", strict_ampersand=False) == ("AT&T", [])


def test_strip_shifts_entities() -> None:
    text, entities = strip_text("\n  <b>", [{"type": "bold", "offset": 3, "length": 3}])
    assert (text, entities) == ("<b>", [{"type": "bold", "offset": 0, "length": 3}])
