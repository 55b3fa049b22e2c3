"""Every setting fails with one line naming the variable; the CLI turns that into exit code 2."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.__main__ import build_parser, main
from bot.settings import (
    AppSettings,
    BackendSettings,
    DatabaseSettings,
    NotificationSettings,
    RedisSettings,
    Settings,
    SettingsError,
    TelegramSettings,
    WebhookSettings,
    load_settings,
)
from bot.settings_max import MaxSettings

REPO = Path(__file__).resolve().parents[2]
GOOD_TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"
GOOD_SECRET = "w" * 24


def _error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message, message
    return message


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("env", "names"),
    [
        pytest.param({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN", id="token-shape"),
        pytest.param({"BOT_TOKEN": "123456:short"}, "BOT_TOKEN", id="token-too-short"),
        pytest.param({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL", id="api-url"),
        pytest.param({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL", id="db-scheme"),
        pytest.param({"REDIS_URL": "http://127.0.0.1:6379/0"}, "REDIS_URL", id="redis-scheme"),
        pytest.param({"FSM_TTL_SECONDS": "0"}, "FSM_TTL_SECONDS", id="fsm-ttl"),
        pytest.param({"BACKEND": "ftp"}, "BACKEND", id="backend-kind"),
        pytest.param({"BACKEND": "http"}, "BACKEND_URL", id="http-without-url"),
        pytest.param(
            {"BACKEND": "http", "BACKEND_URL": "https://emk.example/api"},
            "BACKEND_TOKEN",
            id="http-without-token",
        ),
        pytest.param(
            {"WEBHOOK_URL": "https://bot.example"}, "WEBHOOK_SECRET", id="webhook-without-secret"
        ),
        pytest.param(
            {"WEBHOOK_URL": "http://bot.example", "WEBHOOK_SECRET": GOOD_SECRET},
            "WEBHOOK_URL",
            id="webhook-not-https",
        ),
        pytest.param({"WEBHOOK_SECRET": "short"}, "WEBHOOK_SECRET", id="short-secret"),
        pytest.param({"WEBHOOK_SECRET": "x" * 20 + "!"}, "WEBHOOK_SECRET", id="secret-charset"),
        pytest.param({"WEBHOOK_PORT": "70000"}, "WEBHOOK_PORT", id="webhook-port"),
        pytest.param({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", id="log-level"),
        pytest.param({"DEFAULT_LOCALE": "de"}, "DEFAULT_LOCALE", id="locale"),
        pytest.param({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE", id="tz-unknown"),
        pytest.param({"TIMEZONE": "Europe"}, "TIMEZONE", id="tz-directory"),
        pytest.param({"TIMEZONE": "../../etc/passwd"}, "TIMEZONE", id="tz-path"),
        pytest.param({"SECRET_KEY": "too-short"}, "SECRET_KEY", id="secret-key"),
        pytest.param({"THROTTLE_PER_SECOND": "-1"}, "THROTTLE_PER_SECOND", id="throttle"),
        pytest.param({"BACKEND_URL": "records:8090"}, "BACKEND_URL", id="backend-url-scheme"),
        pytest.param({"BACKEND_TIMEOUT_SECONDS": "soon"}, "BACKEND_TIMEOUT_SECONDS", id="timeout"),
        pytest.param({"WEBHOOK_PORT": "eighty"}, "WEBHOOK_PORT", id="port-not-a-number"),
        pytest.param({"WEBHOOK_PATH": "telegram"}, "WEBHOOK_PATH", id="webhook-path"),
        pytest.param({"EVENTS_PATH": "/a b"}, "EVENTS_PATH", id="events-path"),
        pytest.param({"EVENTS_SECRET": "short"}, "EVENTS_SECRET", id="events-secret"),
        pytest.param({"PAID_BROADCAST": "maybe"}, "PAID_BROADCAST", id="bool"),
        pytest.param({"SEND_CONCURRENCY": "0"}, "SEND_CONCURRENCY", id="concurrency"),
        pytest.param({"SANDBOX_SEED": "x"}, "SANDBOX_SEED", id="seed"),
    ],
)
def test_bad_variable_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], names: str
) -> None:
    message = _error(monkeypatch, **env)
    assert message.startswith("configuration error: ")
    assert names in message
    # The line may be shown on a shared screen or in CI logs: never echo secret values.
    for name in ("BOT_TOKEN", "WEBHOOK_SECRET", "SECRET_KEY", "BACKEND_TOKEN", "EVENTS_SECRET"):
        if name in env:
            assert env[name] not in message


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/emk", "postgresql+asyncpg://u:p@db:5432/emk"),
        ("postgresql://u@db/emk", "postgresql+asyncpg://u@db/emk"),
        ("postgresql+asyncpg://u@db/emk", "postgresql+asyncpg://u@db/emk"),
        ("sqlite:///./var/x.sqlite3", "sqlite+aiosqlite:///./var/x.sqlite3"),
    ],
)
def test_database_url_gets_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    settings = load_settings()
    assert settings.database.database_url == expected
    assert settings.database.is_sqlite == expected.startswith("sqlite")


@pytest.mark.usefixtures("clean_env")
def test_good_environment_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "BOT_TOKEN": GOOD_TOKEN,
        "REDIS_URL": "redis://cache:6379/1",
        "BACKEND": "http",
        "BACKEND_URL": "https://emk.example/api",
        "BACKEND_TOKEN": "backend-token",
        "WEBHOOK_URL": "https://bot.example",
        "WEBHOOK_SECRET": GOOD_SECRET,
        "LOG_LEVEL": "debug",
        "TIMEZONE": "Asia/Yekaterinburg",
        "SECRET_KEY": "k" * 32,
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.telegram.bot_token is not None
    assert settings.telegram.bot_token.get_secret_value() == GOOD_TOKEN
    assert settings.redis.redis_url == "redis://cache:6379/1"
    assert settings.backend.backend == "http"
    assert settings.webhook.webhook_url == "https://bot.example"
    assert settings.app.log_level == "DEBUG"
    assert settings.app.timezone == "Asia/Yekaterinburg"


@pytest.mark.usefixtures("clean_env")
def test_empty_optional_urls_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # `.env.example` ships `REDIS_URL=` and `WEBHOOK_URL=`: empty is "not used", not an error.
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("WEBHOOK_URL", "")
    settings = load_settings()
    assert settings.redis.redis_url is None
    assert settings.webhook.webhook_url is None


# --- `.env.example` as shipped -------------------------------------------------------------

EXAMPLE = REPO / ".env.example"
SECTIONS = (
    TelegramSettings,
    DatabaseSettings,
    RedisSettings,
    BackendSettings,
    WebhookSettings,
    MaxSettings,
    NotificationSettings,
    AppSettings,
)


def _example_names() -> list[str]:
    names = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            names.append(line.split("=", 1)[0])
    return names


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting from the shell (every field of every section), in an empty directory."""
    for section in SECTIONS:
        for field in section.model_fields:
            monkeypatch.delenv(field.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_example_names_only_real_settings() -> None:
    known = {field.upper() for section in SECTIONS for field in section.model_fields}
    names = _example_names()
    assert names and set(names) <= known, set(names) - known
    assert len(names) == len(set(names))


def test_the_example_copied_as_is_loads_as_the_defaults(bare_env: Path) -> None:
    defaults = load_settings()
    (bare_env / ".env").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings()
    # The empty ones (`BOT_TOKEN=`, `WEBHOOK_SECRET=`, `SECRET_KEY=`, ...) mean "unset".
    assert settings.telegram.bot_token is None
    assert settings.webhook.webhook_secret is None and settings.webhook.webhook_url is None
    assert settings.app.secret_key is None
    assert settings.backend.backend_token is None and settings.backend.backend_url is None
    assert settings.redis.redis_url is None
    assert settings.notifications.events_secret is None
    # ... and the filled ones are the defaults, so the file documents what you get.
    for key in ("telegram", "database", "redis", "backend", "webhook", "notifications", "app"):
        assert getattr(settings, key).model_dump() == getattr(defaults, key).model_dump(), key


@pytest.mark.parametrize("where", ["dotenv", "environment"])
def test_every_variable_left_empty_means_its_default(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    defaults = load_settings()
    names = _example_names()
    if where == "dotenv":
        (bare_env / ".env").write_text("".join(f"{n}=\n" for n in names), encoding="utf-8")
    else:
        for name in names:
            monkeypatch.setenv(name, "")
    settings = load_settings()
    for key in ("telegram", "database", "redis", "backend", "webhook", "notifications", "app"):
        assert getattr(settings, key).model_dump() == getattr(defaults, key).model_dump(), key


@pytest.mark.parametrize("junk", ["junk value!", "-1", "0", "ftp://x", "Ж" * 300])
def test_any_junk_in_any_variable_is_accepted_or_one_line_naming_it(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch, junk: str
) -> None:
    # The boundary on purpose: whatever a person types, never a traceback.
    for name in _example_names():
        monkeypatch.setenv(name, junk)
        try:
            load_settings()
        except SettingsError as error:
            message = str(error)
            assert "\n" not in message and name in message, (name, message)
        monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"BOT_TOKEN=\xff\xfe\n", ".env: not UTF-8 text", id="not-utf8"),
        pytest.param(
            b'LOG_LEVEL=INFO\nSECRET_KEY="s3cr3t-s3cr3t\nX=1\n', ".env line 2", id="open-quote"
        ),
    ],
)
def test_an_unreadable_env_file_is_one_line(bare_env: Path, content: bytes, expected: str) -> None:
    (bare_env / ".env").write_bytes(content)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith("configuration error: ") and expected in message
    assert "\n" not in message and "s3cr3t" not in message


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
        **env,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env here
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"BOT_TOKEN": "definitely-not-a-token"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": GOOD_TOKEN, "DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"BOT_TOKEN": GOOD_TOKEN, "BACKEND": "http"}, "BACKEND_URL"),
        ({}, "BOT_TOKEN"),  # not set at all
        ({"CHANNEL": "icq"}, "CHANNEL"),
        ({"CHANNEL": "max"}, "MAX_TOKEN"),  # MAX alone needs no BOT_TOKEN, but its own
        ({"CHANNEL": "both", "MAX_TOKEN": "m"}, "BOT_TOKEN"),
        ({"CHANNEL": "max", "MAX_TOKEN": "m", "MAX_WEBHOOK_URL": "https://x.ru"}, "MAX_WEBHOOK"),
        ({"CHANNEL": "max", "MAX_TOKEN": "m", "MAX_WEBHOOK_SECRET": "short"}, "MAX_WEBHOOK_SECRET"),
        ({"CHANNEL": "max", "MAX_TOKEN": "m", "MAX_WEBHOOK_URL": "http://x.ru"}, "MAX_WEBHOOK_URL"),
    ],
    ids=[
        "bad-token",
        "bad-database",
        "http-backend-without-url",
        "no-token",
        "unknown-channel",
        "max-without-token",
        "both-without-telegram-token",
        "max-webhook-without-secret",
        "max-short-secret",
        "max-plain-http",
    ],
)
def test_run_with_a_bad_variable_exits_2_with_one_line(
    tmp_path: Path, env: dict[str, str], name: str
) -> None:
    result = _cli(tmp_path, "run", **env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error: ")
    assert name in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "var").exists()  # nothing was started or created


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("run",), "BOT_TOKEN"),
        (("worker", "--once"), "BOT_TOKEN"),
        (("sandbox", "serve"), "BACKEND_TOKEN"),
    ],
    ids=["run", "worker", "sandbox-serve"],
)
def test_the_shipped_example_says_what_is_missing_in_one_line(
    tmp_path: Path, args: tuple[str, ...], name: str
) -> None:
    # `cp .env.example .env`: these need a credential the example cannot ship.
    (tmp_path / ".env").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = _cli(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"configuration error: {name} is not set"), line
    assert "Traceback" not in result.stderr


@pytest.fixture
def root_logging() -> Iterator[None]:
    """`main` sets up logging for the process; the test's capture comes back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_the_shipped_example_starts_the_demo(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `cp .env.example .env && make demo`: start-up gets past the settings to the demo itself.
    (bare_env / ".env").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    started: list[Settings] = []

    async def demo(settings: Settings) -> int:
        started.append(settings)
        return 0

    from bot import demo as demo_module

    monkeypatch.setattr(demo_module, "run_demo", demo)
    assert main(["demo"]) == 0
    [settings] = started
    assert settings.telegram.bot_token is None  # the demo needs none


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _cli(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    for command in ("run", "worker", "migrate"):
        assert f"    {command} " in result.stdout, result.stdout


def _subcommands() -> list[str]:
    import argparse

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    raise AssertionError("no subcommands")


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _subcommands()
    assert {"run", "worker", "migrate"} <= set(commands)
    for command in commands:
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: python -m bot {command}"), out
        assert len(out.splitlines()) > 2


def test_worker_once_flag_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["worker", "--help"])
    assert "--once" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["fly"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
