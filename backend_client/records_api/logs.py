"""Structured log events, in the convention of ``bot.logs`` (which ``backend_client`` may not
import): the message is the event name, the fields ride in ``extra["event_fields"]`` so the bot's
JSON formatter prints them. Fields are ids, codes, counts and timings only, never bodies."""

from __future__ import annotations

import logging
from typing import Any


def log_event(
    logger: logging.Logger,
    event: str,
    level: int = logging.INFO,
    *,
    exc_info: bool = False,
    **fields: Any,
) -> None:
    logger.log(level, event, exc_info=exc_info, extra={"event_fields": fields})
