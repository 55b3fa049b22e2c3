"""Signed event pushes: HMAC-SHA256 over "<timestamp>.<body>" with a shared secret.

The timestamp (Unix seconds) must be within the replay window; a request replayed inside the
window carries event ids already processed and adds nothing (intake deduplicates by id).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Emk-Signature"
TIMESTAMP_HEADER = "X-Emk-Timestamp"
_PREFIX = "sha256="


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return _PREFIX + digest.hexdigest()


def verify(
    secret: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    *,
    now: float,
    max_age_seconds: float,
) -> str | None:
    """None if the request is authentic and fresh, else the reason (for the log)."""
    if not timestamp_header or not signature_header:
        return "missing"
    if not timestamp_header.isdigit() or len(timestamp_header) > 12:
        return "timestamp"
    timestamp = int(timestamp_header)
    if abs(now - timestamp) > max_age_seconds:
        return "stale"
    if not hmac.compare_digest(sign(secret, timestamp, body), signature_header):
        return "signature"
    return None
