"""What every settings section shares: how variables are read, and the checks of a URL path
and of a webhook secret (Telegram's and MAX's have the same shape)."""

from __future__ import annotations

import re

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

BASE_CONFIG = SettingsConfigDict(
    env_file=".env",
    env_file_encoding="utf-8",
    extra="ignore",
    case_sensitive=False,
    # `.env.example` ships `BOT_TOKEN=`, `SECRET_KEY=`, ...: an empty value means "unset" (the
    # default applies), in the environment and in `.env` alike, so the copy works as shipped.
    env_ignore_empty=True,
)


def url_path(value: str) -> str:
    if not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", value):
        raise ValueError("must be a path such as /telegram/webhook")
    return value


def webhook_secret(value: SecretStr | None) -> SecretStr | None:
    """16-256 of A-Z, a-z, 0-9, _ and - (what Telegram allows; we ask for a real secret)."""
    if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()):
        raise ValueError("must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
    return value


def public_url(value: str | None, messenger: str) -> str | None:
    """A webhook's public base URL: https (or a loopback http for local runs); empty is unset."""
    if value in (None, ""):
        return None
    assert value is not None
    if not value.startswith("https://") and not value.startswith("http://127."):
        raise ValueError(f"must be an https:// URL ({messenger} only calls https)")
    return value
