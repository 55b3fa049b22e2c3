"""Settings: one class per concern, read from the environment (and `.env`).

The environment variable names are the public contract documented in README.md and
`.env.example`; each field is named after its variable so errors name the variable.
"""

from __future__ import annotations

import io
import re
from enum import StrEnum
from pathlib import Path
from typing import Self

from dotenv.parser import parse_stream
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings

from bot.settings_fields import BASE_CONFIG, public_url, url_path, webhook_secret
from bot.settings_max import MaxSettings

_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"


class TelegramSettings(BaseSettings):
    model_config = BASE_CONFIG

    bot_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    # One reply's repeats on Telegram's 429 / 5xx, from its first attempt (bot/telegram_retry.py).
    telegram_retry_budget_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("must look like 123456:ABC-DEF... (the token @BotFather gives)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL")
        return value.rstrip("/")


class DatabaseSettings(BaseSettings):
    model_config = BASE_CONFIG

    database_url: str = "sqlite+aiosqlite:///./var/emk-bot.sqlite3"
    # PostgreSQL: the longest one connect, statement or wait for a pooled connection may take.
    database_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # People paste plain postgres:// URLs; the app always talks through async drivers.
        for plain, async_ in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                return async_ + value[len(plain) :]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must be a postgresql:// or sqlite:// URL")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class RedisSettings(BaseSettings):
    model_config = BASE_CONFIG

    redis_url: str | None = None
    redis_prefix: str = "emk"
    fsm_ttl_seconds: int = Field(default=24 * 3600, gt=0)

    @field_validator("redis_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value


class BackendKind(StrEnum):
    SANDBOX = "sandbox"
    HTTP = "http"


class BackendSettings(BaseSettings):
    model_config = BASE_CONFIG

    backend: BackendKind = BackendKind.SANDBOX
    backend_url: str | None = None
    backend_token: SecretStr | None = None
    # One backend operation, its repeats included (backend_client/http.py).
    backend_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # All backend calls of one update: a stalled backend is told within it (bot/backend_budget.py).
    backend_budget_seconds: float = Field(default=4.0, gt=0, le=60)
    sandbox_path: Path = Path("./var/sandbox.sqlite3")
    sandbox_seed: int = 42

    @field_validator("backend_url")
    @classmethod
    def _backend_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL of the Records API")
        return value

    @model_validator(mode="after")
    def _http_needs_url(self) -> Self:
        if self.backend is BackendKind.HTTP:
            if not self.backend_url:
                raise ValueError("BACKEND_URL is required when BACKEND=http")
            if self.backend_token is None:
                raise ValueError("BACKEND_TOKEN is required when BACKEND=http")
        return self


class WebhookSettings(BaseSettings):
    model_config = BASE_CONFIG

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"  # noqa: S104 - the container's listen address
    webhook_port: int = Field(default=8080, gt=0, lt=65536)
    webhook_path: str = "/telegram/webhook"

    @field_validator("webhook_path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        return url_path(value)

    @field_validator("webhook_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        return public_url(value, "Telegram")

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        return webhook_secret(value)

    @model_validator(mode="after")
    def _url_needs_secret(self) -> Self:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self


class NotificationSettings(BaseSettings):
    """Notification intake and delivery (the `worker` processes and the events endpoint)."""

    model_config = BASE_CONFIG

    # Signs pushed backend events (HMAC-SHA256 over "timestamp.body"); unset: endpoint off.
    events_secret: SecretStr | None = None
    events_path: str = "/backend/events"
    events_max_age_seconds: int = Field(default=300, gt=0, le=3600)
    # Telegram's bulk limit is about 30/s; a little under it leaves room for replies.
    send_rate_per_second: float = Field(default=25.0, gt=0, le=1000)
    # Paid broadcasts (Stars) lift the limit to 1000/s; the flag is sent with each message.
    paid_broadcast: bool = False
    paid_broadcast_rate_per_second: float = Field(default=1000.0, gt=0, le=1000)
    feed_poll_seconds: float = Field(default=5.0, gt=0)
    reminder_poll_seconds: float = Field(default=900.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    send_concurrency: int = Field(default=8, gt=0, le=256)

    @field_validator("events_path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        return url_path(value)

    @field_validator("events_secret", mode="before")
    @classmethod
    def _secret_len(cls, value: object) -> object:
        if value in (None, ""):
            return None  # `EVENTS_SECRET=` as in .env.example: the endpoint is off
        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if len(raw) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @property
    def rate_per_second(self) -> float:
        return (
            self.paid_broadcast_rate_per_second
            if self.paid_broadcast
            else (self.send_rate_per_second)
        )


class AppSettings(BaseSettings):
    model_config = BASE_CONFIG

    log_level: str = "INFO"
    default_locale: str = "ru"
    timezone: str = "Europe/Moscow"
    # Keys pseudonymised ids and encrypts policy numbers at rest. Unset in the embedded
    # default: a random key is generated once under ./var (see bot/keys.py).
    secret_key: SecretStr | None = None
    var_dir: Path = Path("./var")
    throttle_per_second: float = Field(default=3.0, gt=0)
    # Where people reach the bot's operator (an address, a phone, @username); shown in the help
    # when set.
    support_contact: str | None = None

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in {"ru", "en"}:
            raise ValueError("must be ru or en")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            # OSError: a tzdata directory such as "Europe" is found but is not a zone file.
            raise ValueError("must be an IANA time zone such as Europe/Moscow") from exc
        return value

    @field_validator("secret_key")
    @classmethod
    def _key_len(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value


class Settings(BaseSettings):
    """All sections together; build with `load_settings()` to get one-line errors."""

    model_config = BASE_CONFIG

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    backend: BackendSettings = Field(default_factory=BackendSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    max: MaxSettings = Field(default_factory=MaxSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    app: AppSettings = Field(default_factory=AppSettings)


class SettingsError(Exception):
    """A missing or malformed setting; `str()` is one line naming the variable."""


def describe_validation_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}" if name else message


def check_env_file(path: Path) -> None:
    """A `.env` that cannot be read as NAME=value lines is one line too: left to the library,
    a stray byte is a traceback and a broken line a warning (and its variable silently unset)."""
    if not path.is_file():
        return
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"configuration error: {path.name}: not UTF-8 text (byte {exc.start})"
        ) from None
    except OSError as exc:
        raise SettingsError(f"configuration error: {path.name}: {exc.strerror}") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise SettingsError(
                f"configuration error: {path.name} line {binding.original.line}: "
                "not NAME=value (a quote left open?)"
            )


def load_settings(**overrides: object) -> Settings:
    """Read every section from the environment, turning the first problem into one line."""
    check_env_file(Path(str(BASE_CONFIG["env_file"])))
    sections: dict[str, type[BaseSettings]] = {
        "telegram": TelegramSettings,
        "database": DatabaseSettings,
        "redis": RedisSettings,
        "backend": BackendSettings,
        "webhook": WebhookSettings,
        "max": MaxSettings,
        "notifications": NotificationSettings,
        "app": AppSettings,
    }
    built: dict[str, BaseSettings] = {}
    for key, cls in sections.items():
        section_overrides = overrides.get(key, {})
        assert isinstance(section_overrides, dict)
        try:
            built[key] = cls(**section_overrides)
        except ValidationError as exc:
            raise SettingsError(f"configuration error: {describe_validation_error(exc)}") from None
    return Settings.model_construct(**built)  # type: ignore[arg-type]
