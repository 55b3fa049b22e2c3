"""Two languages, both complete: the user's choice, else Telegram's, else Russian."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import SetMyCommands
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.factory import BOT_COMMANDS, set_bot_commands
from bot.i18n import LOCALES_DIR, create_i18n, pick_locale
from bot.i18n_tools import missing
from bot.settings import Settings
from keyboards.start import ConsentAction, ConsentCb, LanguageCb
from tests.recording_bot import RecordingSession, recording_bot
from tests.unit.chat import Chat, joined, texts
from tests.updates import tg_user

REPO = Path(__file__).resolve().parents[2]
LOCALES = ("ru", "en")
SOURCE_DIRS = ("bot", "handlers", "keyboards")
KEYWORDS = {"_": None, "__": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)?(?:[:!][^}]*)?\}")
HTML_TAG = re.compile(r"</?([a-z]+)[^>]*>")

HELP_RU = "Что умеет бот"
HELP_EN = "What this bot does"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.app.throttle_per_second = 1000.0  # conversations here outpace any person
    return settings


def _catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def _msgid(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _strings(message: Message) -> tuple[str, ...]:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return tuple(str(s or "") for s in strings)


def _source_msgids(*directories: Path) -> set[str]:
    found: set[str] = set()
    for directory in directories or tuple(REPO / d for d in SOURCE_DIRS):
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(directory), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


# --- the catalogs -------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete(locale: str) -> None:
    problems = missing(_catalog(locale))
    assert not problems, f"{locale}: untranslated or fuzzy: {problems}"


def test_every_string_in_the_code_is_in_both_catalogs() -> None:
    in_code = _source_msgids()
    assert len(in_code) > 20  # the extraction itself works
    for locale in LOCALES:
        catalog = _catalog(locale)
        known = {_msgid(message) for message in catalog if message.id}
        absent = sorted(in_code - known)
        assert not absent, (
            f"{locale}: strings in the code missing from the catalog (run `make locales`): {absent}"
        )


def test_extraction_finds_every_kind_of_marked_string(tmp_path: Path) -> None:
    # Guards the guard above: a string added with any of our markers is seen.
    (tmp_path / "feature").mkdir()
    (tmp_path / "feature" / "new.py").write_text(
        "from aiogram.utils.i18n import gettext as _, lazy_gettext as __, ngettext\n"
        "A = _('A brand new screen')\n"
        "B = __('A brand new button')\n"
        "C = N_('A brand new command')\n"
        "D = ngettext('{n} new thing', '{n} new things', 2)\n"
        "E = 'not marked'\n",
        encoding="utf-8",
    )
    found = _source_msgids(tmp_path)
    assert found == {
        "A brand new screen",
        "A brand new button",
        "A brand new command",
        "{n} new thing",
    }
    known = {_msgid(message) for message in _catalog("ru") if message.id}
    assert found - known == found


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_and_markup(locale: str) -> None:
    problems: list[str] = []
    for message in _catalog(locale):
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        wanted_fields = Counter(f for text in ids[:1] for f in PLACEHOLDER.findall(text))
        wanted_tags = Counter(HTML_TAG.findall(ids[0]))
        for translated in _strings(message):
            if not translated:
                continue  # reported by test_catalog_is_complete
            fields = Counter(PLACEHOLDER.findall(translated))
            if set(fields) != set(wanted_fields):
                problems.append(f"{_msgid(message)[:50]!r}: placeholders {dict(fields)}")
            if Counter(HTML_TAG.findall(translated)) != wanted_tags:
                problems.append(f"{_msgid(message)[:50]!r}: HTML tags differ")
    assert not problems, f"{locale}: " + "; ".join(problems)


def test_russian_translations_are_russian() -> None:
    # A copy of the English msgid in the ru catalog passes "complete" but helps nobody.
    def words(text: str) -> str:
        return HTML_TAG.sub("", PLACEHOLDER.sub("", text))

    copied = [
        _msgid(m)
        for m in _catalog("ru")
        if m.id
        and re.search("[A-Za-z]{3}", words(_msgid(m)))
        and not re.search("[а-яё]", words(_strings(m)[0]), re.IGNORECASE)
    ]
    assert not copied, f"ru entries with no Russian in them: {copied}"


def test_the_placeholder_check_can_fail() -> None:
    lost = Message("Try again in {minutes} min.", "Попробуйте позже.")
    kept = Message("Try again in {minutes} min.", "Через {minutes} мин.")
    assert set(PLACEHOLDER.findall(str(lost.string))) != set(PLACEHOLDER.findall(str(lost.id)))
    assert set(PLACEHOLDER.findall(str(kept.string))) == set(PLACEHOLDER.findall(str(kept.id)))


def test_placeholders_survive_formatting_in_both_languages() -> None:
    i18n = create_i18n("ru")
    msgid = "Too many attempts. Please try again in {minutes} min."
    assert i18n.gettext(msgid, locale="ru").format(minutes=5).endswith("через 5 мин.")
    assert i18n.gettext(msgid, locale="en").format(minutes=5) == msgid.format(minutes=5)


# --- picking the language -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("saved", "telegram", "expected"),
    [
        ("en", "ru", "en"),
        ("ru", "en", "ru"),
        (None, "en", "en"),
        (None, "en-GB", "en"),
        (None, "EN-us", "en"),
        (None, "ru-RU", "ru"),
        (None, "de", "ru"),
        (None, "", "ru"),
        (None, None, "ru"),
        ("xx", "en", "en"),
    ],
)
def test_pick_locale(saved: str | None, telegram: str | None, expected: str) -> None:
    assert pick_locale(saved, telegram, ("en", "ru"), "ru") == expected


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [("en", HELP_EN), ("en-US", HELP_EN), ("ru", HELP_RU), ("de", HELP_RU), (None, HELP_RU)],
)
async def test_without_a_saved_language_telegrams_is_used(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    language_code: str | None,
    expected: str,
) -> None:
    bot, session = bot_and_session
    chat = Chat(dispatcher, bot, session, tg_user(5001, language_code=language_code))
    assert expected in joined(await chat.send("/help"))


async def test_the_same_screens_in_both_languages(
    dispatcher: Dispatcher, bot_and_session: tuple[Bot, RecordingSession]
) -> None:
    bot, session = bot_and_session
    # Telegram says English, but the saved choice wins from then on.
    chat = Chat(dispatcher, bot, session, tg_user(5002, language_code="en"))
    await chat.send("/start")
    replies = await chat.press(LanguageCb(code="ru").pack())
    assert texts(replies)[0] == "Язык изменён"
    assert "Согласие на обработку персональных данных" in joined(replies)
    replies = await chat.press(ConsentCb(action=ConsentAction.ACCEPT).pack())
    assert "Согласие записано. Выберите, что сделать:" in texts(replies)
    assert HELP_RU in joined(await chat.send("❓ Помощь"))
    assert "Что бот хранит о вас" in joined(await chat.send("🔒 Мои данные"))
    # A menu button in the other language is not a button: the user reads only one. (Typed
    # words asking for help are help in either language: `bot.flows.free_text`.)
    assert "Не понял вас" in joined(await chat.send("🔒 Privacy"))

    await chat.send("🌐 Язык")
    replies = await chat.press(LanguageCb(code="en").pack())
    assert texts(replies)[:2] == ["Language changed", "Done. Choose what to do:"]
    assert HELP_EN in joined(await chat.send("❓ Help"))
    privacy = joined(await chat.send("🔒 Privacy"))
    assert "What the bot keeps about you" in privacy and "consent given: yes" in privacy
    assert "Nothing to cancel." in texts(await chat.send("/cancel"))

    await chat.send("/language")
    await chat.press(LanguageCb(code="ru").pack())
    assert texts(await chat.send("/cancel")) == ["Отменять нечего."]


# --- the command menu ---------------------------------------------------------------------------


async def test_set_my_commands_in_each_language() -> None:
    bot, session = recording_bot()
    await set_bot_commands(bot, create_i18n("ru"))

    calls = session.sent("setMyCommands")
    by_language: dict[str | None, dict[str, str]] = {}
    for call in calls:
        assert isinstance(call, SetMyCommands)
        by_language[call.language_code] = {c.command: c.description for c in call.commands}

    assert set(by_language) == {"ru", "en", None}  # None: the default, for other app languages
    names = [command for command, _ in BOT_COMMANDS]
    for language, commands in by_language.items():
        assert list(commands) == names, language
        assert all(1 <= len(d) <= 256 for d in commands.values())
    assert by_language["en"] == dict(BOT_COMMANDS)
    assert by_language["ru"]["start"] == "Главное меню"
    assert by_language["ru"]["cancel"] == "Отменить текущее действие"
    assert all(re.search("[а-яё]", d) for d in by_language["ru"].values())
    assert by_language[None] == by_language["ru"]  # Russian is the default
