"""Field encryption and keyed look-up hashes for personal data the bot must keep.

Policy numbers, names people give to relatives and the like are stored AES-GCM encrypted with
`AppKeys.encryption`; where the bot must *find* a row by such a value (a patient id, a phone) it
stores an HMAC with `AppKeys.lookup` instead, which cannot be reversed without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.keys import AppKeys

_NONCE_BYTES = 12
_VERSION = b"\x01"


class DecryptionError(ValueError):
    """The blob was not made by this key for this purpose (or was tampered with)."""


class FieldCipher:
    def __init__(self, keys: AppKeys) -> None:
        self._aead = AESGCM(keys.encryption)
        self._lookup_key = keys.lookup

    def encrypt(self, plaintext: str, *, purpose: str) -> bytes:
        # `purpose` is bound as associated data: a policy blob cannot be replayed as a label.
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return _VERSION + nonce + sealed

    def decrypt(self, blob: bytes, *, purpose: str) -> str:
        if len(blob) < 1 + _NONCE_BYTES or blob[:1] != _VERSION:
            raise DecryptionError("unknown blob format")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, purpose.encode()).decode()
        except InvalidTag as error:
            raise DecryptionError("blob does not match key or purpose") from error

    def lookup_hash(self, value: str, *, purpose: str) -> str:
        """A stable keyed hash (hex, 64 chars) to find rows by a value without storing it."""
        message = purpose.encode() + b"\x00" + value.encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    def short_ref(self, value: str, *, purpose: str) -> str:
        """A 16-char keyed reference, small enough for callback data, opaque to the user."""
        return self.lookup_hash(value, purpose=purpose)[:16]


def requester_id_for(keys: AppKeys, messenger_key: int | str) -> str:
    """The stable pseudonymous id the backend knows a user by (never the raw id):
    `User.messenger_key` — a Telegram id as it always was (`tg-...`), `max:<id>` (`max-...`)."""
    key = str(messenger_key)
    channel = key.rpartition(":")[0]
    digest = hmac.new(keys.pseudonym, b"requester:" + key.encode(), hashlib.sha256)
    return f"{channel or 'tg'}-" + digest.hexdigest()[:32]
