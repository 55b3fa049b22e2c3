"""Structured, privacy-safe logging.

One JSON object per line. Our own events go through `log_event` with fields we choose. A
library's line keeps its template (the kind of event) but loses what it may quote: exception
texts always, and for aiogram every argument but a number (see `library_message`); the rest is
scrubbed of anything that looks like a token, a phone, a policy number or a long id, because a
library may one day log more than it does today.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

_SCRUBBERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{5,20}:[A-Za-z0-9_-]{20,}"), "<token>"),
    (re.compile(r"(?i)(bot)[0-9]+:[^/\s]+"), r"\1<token>"),
    (re.compile(r"\+?\d[\d\s()-]{8,}\d"), "<number>"),
    (re.compile(r"\b\d{5,}\b"), "<number>"),
)

_pseudonym_key = b"unset"


def configure_pseudonyms(key: bytes) -> None:
    global _pseudonym_key
    _pseudonym_key = key


def pseudonym(telegram_id: int | str) -> str:
    """A stable keyed hash of a Telegram id: lets logs be correlated without naming anyone."""
    digest = hmac.new(_pseudonym_key, str(telegram_id).encode(), hashlib.sha256).hexdigest()
    return "u" + digest[:12]


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUBBERS:
        text = pattern.sub(replacement, text)
    return text


# Loggers whose arguments may be (or quote) a Telegram update: a user's text, first name,
# username. Of their arguments only numbers (ids, counts, durations) are kept.
_UPDATE_CONTENT_LOGGERS = ("aiogram",)


def _carries_update_content(logger_name: str) -> bool:
    return any(
        logger_name == name or logger_name.startswith(name + ".")
        for name in _UPDATE_CONTENT_LOGGERS
    )


def _safe_arg(arg: object, strict: bool) -> object:
    if isinstance(arg, BaseException):
        return f"<{type(arg).__name__}>"  # exception texts quote their input
    if isinstance(arg, int | float) or not strict:
        return arg
    return f"<{type(arg).__name__}>"


def library_message(record: logging.LogRecord) -> tuple[str, str | None]:
    """A library's log line without what it may quote, and the error kind it names, if any.

    The template (the kind of event: "Failed to fetch updates - %s: %s") is kept; exceptions
    among the arguments become their type name, because a pydantic `ValidationError` of a bad
    update quotes the update's text and the sender's name. For aiogram every argument but a
    number is dropped: its arguments are parts of updates. The rest is scrubbed as any text."""
    strict = _carries_update_content(record.name)
    error = next(
        (type(arg).__name__ for arg in _args_of(record) if isinstance(arg, BaseException)), None
    )
    template = record.msg if isinstance(record.msg, str) else f"<{type(record.msg).__name__}>"
    args = record.args
    if isinstance(args, tuple):
        safe: object = tuple(_safe_arg(arg, strict) for arg in args)
    elif isinstance(args, Mapping):
        safe = {key: _safe_arg(value, strict) for key, value in args.items()}
    else:
        safe = None
    try:
        message = template % safe if safe else template
    except (TypeError, ValueError, KeyError):
        message = template  # a malformed call: the template alone still says what happened
    return scrub(message), error


def _args_of(record: logging.LogRecord) -> tuple[object, ...]:
    if isinstance(record.args, tuple):
        return record.args
    if isinstance(record.args, Mapping):
        return tuple(record.args.values())
    return ()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "event_fields", None)
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if fields is not None:
            payload["event"] = record.msg
            payload.update(fields)
        else:
            payload["event"] = "library"
            payload["message"], error = library_message(record)
            if error is not None:
                payload["error"] = error
        if record.exc_info and record.exc_info[0] is not None:
            # Type and place only: exception messages can quote user input.
            exc_type = record.exc_info[0]
            tb = record.exc_info[2]
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            payload["error"] = exc_type.__name__
            if tb is not None:
                payload["where"] = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        return json.dumps(payload, ensure_ascii=False, default=str)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log a named event with safe fields only (ids, counts, kinds - never personal data)."""
    logger.log(level, event, extra={"event_fields": fields})


def setup_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log prints request lines; the webhook path carries no secret but
    # query strings might, and one line per request is noise at production volume.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # At DEBUG these print SQL with its parameters: policy numbers, SMS texts with codes.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    # Alembic announces its plugins at import; only its migration steps are worth a line.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Our update middleware logs each update with more context; aiogram's line would repeat it.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
