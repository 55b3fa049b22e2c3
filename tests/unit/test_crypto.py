from __future__ import annotations

import pytest

from bot.crypto import DecryptionError, FieldCipher, requester_id_for
from bot.keys import AppKeys

POLICY = "7700123456789012"


def test_round_trip_and_no_plaintext_at_rest() -> None:
    cipher = FieldCipher(AppKeys(b"a" * 64))
    blob = cipher.encrypt(POLICY, purpose="policy")
    assert POLICY.encode() not in blob
    assert cipher.decrypt(blob, purpose="policy") == POLICY
    # A fresh nonce each time: equal policies do not give equal blobs.
    assert cipher.encrypt(POLICY, purpose="policy") != blob


def test_wrong_key_purpose_or_tampering_is_refused() -> None:
    cipher = FieldCipher(AppKeys(b"a" * 64))
    blob = cipher.encrypt(POLICY, purpose="policy")
    with pytest.raises(DecryptionError):
        FieldCipher(AppKeys(b"b" * 64)).decrypt(blob, purpose="policy")
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, purpose="label")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        cipher.decrypt(tampered, purpose="policy")
    with pytest.raises(DecryptionError):
        cipher.decrypt(b"junk", purpose="policy")


def test_lookup_hash_is_stable_keyed_and_purpose_bound() -> None:
    a = FieldCipher(AppKeys(b"a" * 64))
    b = FieldCipher(AppKeys(b"b" * 64))
    assert a.lookup_hash("p1", purpose="patient") == a.lookup_hash("p1", purpose="patient")
    assert a.lookup_hash("p1", purpose="patient") != b.lookup_hash("p1", purpose="patient")
    assert a.lookup_hash("p1", purpose="patient") != a.lookup_hash("p1", purpose="phone")
    assert "p1" not in a.lookup_hash("p1", purpose="patient")
    assert len(a.short_ref("g1", purpose="grant-ref")) == 16


def test_requester_id_is_a_stable_pseudonym() -> None:
    keys = AppKeys(b"a" * 64)
    rid = requester_id_for(keys, 123456789)
    assert rid == requester_id_for(keys, 123456789)
    assert rid.startswith("tg-") and "123456789" not in rid
    assert rid != requester_id_for(AppKeys(b"b" * 64), 123456789)
    assert len(rid) <= 64
