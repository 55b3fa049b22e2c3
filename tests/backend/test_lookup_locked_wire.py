"""The look-up lock-out over the wire: what a client makes of a server's answer, bad ones too."""

from __future__ import annotations

import json

import pytest

from backend_client.errors import LookupLocked, RateLimited, error_from_payload
from backend_client.http_transport import _error_from_response
from backend_client.records_api.app import error_response


def test_the_lock_out_travels_with_its_wait_and_a_retry_after_header() -> None:
    response = error_response(LookupLocked(1234))
    assert response.status == 429
    assert response.headers["Retry-After"] == "1234"
    assert response.body is not None
    payload = json.loads(bytes(response.body))  # type: ignore[arg-type]
    again = error_from_payload(payload)
    assert isinstance(again, LookupLocked) and not isinstance(again, RateLimited)
    assert again.retry_after == 1234


@pytest.mark.parametrize(
    ("retry_after", "seen"),
    [("soon", 3600), (None, 3600), ([5], 3600), (True, 3600), (-40, 1), (10**12, 86_400)],
)
def test_a_nonsense_wait_from_the_server_becomes_a_sane_one(retry_after: object, seen: int) -> None:
    # Whatever the server says, the person is told a wait between a second and a day.
    error = error_from_payload({"code": "lookup_locked", "retry_after": retry_after})
    assert isinstance(error, LookupLocked)
    assert error.retry_after == seen


def test_without_a_wait_in_the_body_the_header_counts() -> None:
    body = json.dumps({"code": "lookup_locked", "message": "x"}).encode()
    error = _error_from_response("find_patient", 429, {"Retry-After": "90"}, body)
    assert isinstance(error, LookupLocked) and error.retry_after == 90
    error = _error_from_response("find_patient", 429, {"Retry-After": "later"}, body)
    assert isinstance(error, LookupLocked) and error.retry_after == 60
