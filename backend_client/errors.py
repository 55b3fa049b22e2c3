"""Typed errors of the records backend.

Every error carries a stable machine ``code`` (and a few typed details) so that an HTTP adapter can
send it over the wire and rebuild the same exception on the other side: ``err.to_payload()`` on
the server, ``error_from_payload(payload)`` on the client. Messages are for developers, never for
patients (the bot translates by ``code``), and never contain health data, policies or codes.
"""

from __future__ import annotations

from typing import Any, ClassVar


class BackendError(Exception):
    """Root of all backend errors."""

    code: ClassVar[str] = "backend_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code

    def details(self) -> dict[str, Any]:
        """Typed extra fields (JSON-safe) that travel with the code."""
        return {}

    def to_payload(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details()}


class NotFound(BackendError):
    """Unknown id, or policy not found / birth date does not match (deliberately the same)."""

    code = "not_found"


class AccessDenied(BackendError):
    """The requester may not do this: no such grant for them, grant revoked/expired, scope too
    narrow, not the owner, not the parent, child too old ...

    ``reason`` is a machine hint for the bot (one of the ``REASON_*`` constants); it never
    reveals anything about a patient the requester has no access to.
    """

    code = "access_denied"
    REASON_GRANT_INACTIVE: ClassVar[str] = "grant_inactive"
    REASON_SCOPE: ClassVar[str] = "scope"
    REASON_NOT_OWNER: ClassVar[str] = "not_owner"
    REASON_NOT_PARENT: ClassVar[str] = "not_parent"
    REASON_CHILD_TOO_OLD: ClassVar[str] = "child_too_old"
    REASON_REFERRAL_REQUIRED: ClassVar[str] = "referral_required"

    def __init__(self, message: str = "", *, reason: str = "grant_inactive") -> None:
        super().__init__(message)
        self.reason = reason

    def details(self) -> dict[str, Any]:
        return {"reason": self.reason}


class SlotTaken(BackendError):
    """The slot is no longer free (someone else booked it, or it is in the past)."""

    code = "slot_taken"


class AlreadyBooked(BackendError):
    """The patient already has an active future visit of this specialty (EMIAS allows one per
    specialty): ``appointment_id`` is that visit, to reschedule it instead."""

    code = "already_booked"

    def __init__(self, appointment_id: str, message: str = "") -> None:
        super().__init__(message or "an active visit of this specialty exists")
        self.appointment_id = appointment_id

    def details(self) -> dict[str, Any]:
        return {"appointment_id": self.appointment_id}


class RateLimited(BackendError):
    """Too many SMS sends (or requests); try again in ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: int, message: str = "") -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    def details(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class LookupLocked(BackendError):
    """Too many wrong (policy, birth date) look-ups for this policy or by this requester: every
    look-up under the cap is refused, even a right one, for ``retry_after`` seconds (see
    ``backend_client.lockout``). Not a ``RateLimited``: no SMS is involved, and the person is
    told something else."""

    code = "lookup_locked"
    LONGEST: ClassVar[int] = 86_400
    """No lock-out lasts longer than a day (the longest window); a longer wait from the wire is
    taken as a day."""

    def __init__(self, retry_after: int, message: str = "") -> None:
        super().__init__(message)
        self.retry_after = max(1, min(int(retry_after), self.LONGEST))

    def details(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class CodeWrong(BackendError):
    """The SMS code does not match; ``attempts_left`` more tries before the challenge dies."""

    code = "code_wrong"

    def __init__(self, attempts_left: int, message: str = "") -> None:
        super().__init__(message)
        self.attempts_left = attempts_left

    def details(self) -> dict[str, Any]:
        return {"attempts_left": self.attempts_left}


class CodeExpired(BackendError):
    """The code's lifetime is over (or it was replaced by a resend); request a new one."""

    code = "code_expired"


class CodeExhausted(BackendError):
    """Too many wrong codes (or already used): the challenge is dead; start again."""

    code = "code_exhausted"


class GrantLimitReached(BackendError):
    """The owner already has the maximum number of recipients (5)."""

    code = "grant_limit_reached"

    def __init__(self, limit: int = 5, message: str = "") -> None:
        super().__init__(message)
        self.limit = limit

    def details(self) -> dict[str, Any]:
        return {"limit": self.limit}


class BackendUnavailable(BackendError):
    """The backend is down, timed out or answered nonsense; nothing was changed, retry later."""

    code = "backend_unavailable"


class InvalidRequest(BackendError):
    """Malformed input; ``field`` names the offending argument (e.g. ``"policy"``)."""

    code = "invalid_request"

    def __init__(self, field: str, message: str = "") -> None:
        super().__init__(message or f"invalid {field}")
        self.field = field

    def details(self) -> dict[str, Any]:
        return {"field": self.field}


ERRORS_BY_CODE: dict[str, type[BackendError]] = {
    cls.code: cls
    for cls in (
        BackendError,
        NotFound,
        AccessDenied,
        SlotTaken,
        AlreadyBooked,
        RateLimited,
        LookupLocked,
        CodeWrong,
        CodeExpired,
        CodeExhausted,
        GrantLimitReached,
        BackendUnavailable,
        InvalidRequest,
    )
}


def error_from_payload(payload: dict[str, Any]) -> BackendError:
    """Rebuild the typed error from ``BackendError.to_payload()`` output (HTTP adapter side).

    Unknown codes become a plain ``BackendError`` so an older client survives a newer server.
    """
    code = str(payload.get("code", ""))
    message = str(payload.get("message", ""))
    cls = ERRORS_BY_CODE.get(code, BackendError)
    if cls is RateLimited:
        return RateLimited(int(payload.get("retry_after", 60)), message)
    if cls is LookupLocked:
        return LookupLocked(_whole_seconds(payload.get("retry_after"), 3600), message)
    if cls is CodeWrong:
        return CodeWrong(int(payload.get("attempts_left", 0)), message)
    if cls is GrantLimitReached:
        return GrantLimitReached(int(payload.get("limit", 5)), message)
    if cls is AlreadyBooked:
        return AlreadyBooked(str(payload.get("appointment_id", "")), message)
    if cls is InvalidRequest:
        return InvalidRequest(str(payload.get("field", "")), message)
    if cls is AccessDenied:
        return AccessDenied(message, reason=str(payload.get("reason", "grant_inactive")))
    return cls(message)


def _whole_seconds(value: object, default: int) -> int:
    """A wait from the wire; anything that is not a whole number of seconds gets `default`."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return default
    try:
        return int(value)
    except ValueError:
        return default
