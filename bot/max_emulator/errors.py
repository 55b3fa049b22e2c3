"""MAX's error answers: an HTTP status plus `{"code": ..., "message": ...}`.

Codes seen from the real API: `verify.token` (401), `proto.payload` (400), `not.found` (404),
`chat.denied` (403), `too.many.requests` (429), `attachment.not.ready` (400). The message
texts here are the emulator's own wherever MAX's exact wording is not known.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def to_payload(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def bad_request(message: str) -> ApiError:
    return ApiError(400, "proto.payload", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not.found", message)


def chat_denied(chat_id: int) -> ApiError:
    # The wording MAX uses when the user stopped (suspended) the dialog with the bot.
    return ApiError(403, "chat.denied", f"Key: error.dialog.suspended, args: [{chat_id},].")


def invalid_token() -> ApiError:
    return ApiError(401, "verify.token", "Invalid access_token")


def too_many_requests() -> ApiError:
    return ApiError(429, "too.many.requests", "Too many requests")


def attachment_not_ready() -> ApiError:
    return ApiError(
        400, "attachment.not.ready", "Key: errors.process.attachment.file.not.processed"
    )


def method_not_allowed(method: str, path: str) -> ApiError:
    return ApiError(405, "method.not.allowed", f"Method {method} is not allowed for {path}")
