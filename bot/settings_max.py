"""The MAX front end's settings, and `CHANNEL`: which messengers this deployment answers."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from bot.settings_fields import BASE_CONFIG, public_url, url_path, webhook_secret


class Channel(StrEnum):
    """Which messengers this deployment answers: one of them, or both from one database."""

    TELEGRAM = "telegram"
    MAX = "max"
    BOTH = "both"

    @property
    def telegram(self) -> bool:
        return self in (Channel.TELEGRAM, Channel.BOTH)

    @property
    def max(self) -> bool:
        return self in (Channel.MAX, Channel.BOTH)


DEFAULT_MAX_API_URL = "https://platform-api2.max.ru"


class MaxSettings(BaseSettings):
    """The MAX front end (max_channel/): its bot token from MAX's platform, long polling by
    default, a webhook when MAX_WEBHOOK_URL is set (MAX signs each push with the secret in
    the `X-Max-Bot-Api-Secret` header)."""

    model_config = BASE_CONFIG

    channel: Channel = Channel.TELEGRAM
    max_token: SecretStr | None = None
    max_api_url: str = DEFAULT_MAX_API_URL
    max_webhook_url: str | None = None
    max_webhook_secret: SecretStr | None = None
    max_webhook_host: str = "0.0.0.0"  # noqa: S104 - the container's listen address
    max_webhook_port: int = Field(default=8081, gt=0, lt=65536)
    max_webhook_path: str = "/max/webhook"

    @field_validator("max_webhook_path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        return url_path(value)

    @field_validator("max_api_url")
    @classmethod
    def _api_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// URL")
        return value.rstrip("/")

    @field_validator("max_webhook_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        return public_url(value, "MAX")

    @field_validator("max_webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        return webhook_secret(value)

    @model_validator(mode="after")
    def _url_needs_secret(self) -> Self:
        if self.max_webhook_url and self.max_webhook_secret is None:
            raise ValueError("MAX_WEBHOOK_SECRET is required when MAX_WEBHOOK_URL is set")
        return self
