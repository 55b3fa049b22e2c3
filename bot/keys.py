"""Application keys: one master secret, purpose-bound subkeys derived from it."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class AppKeys:
    master: bytes

    def derive(self, purpose: str) -> bytes:
        # HMAC as a KDF: independent keys per purpose, so one leaking tells nothing of another.
        return hmac.new(self.master, purpose.encode(), hashlib.sha256).digest()

    @property
    def pseudonym(self) -> bytes:
        return self.derive("pseudonym/v1")

    @property
    def encryption(self) -> bytes:
        return self.derive("encryption/v1")

    @property
    def lookup(self) -> bytes:
        return self.derive("lookup-hash/v1")


def load_keys(settings: Settings) -> AppKeys:
    """The configured SECRET_KEY, or (embedded default) a random one kept under var_dir."""
    configured = settings.app.secret_key
    if configured is not None:
        return AppKeys(configured.get_secret_value().encode())
    path = Path(settings.app.var_dir) / "secret.key"
    if path.exists():
        return AppKeys(path.read_bytes().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    return AppKeys(value)
