"""The transport under ``HttpRecordsBackend``: session, timeouts, repeats, errors from answers.

Retry policy (deliberately conservative): an operation is repeated after a connection error, a
timeout or a 502/503/504 only when ``Endpoint.retry_safe`` says so, i.e. reads, and ``book`` /
``reschedule`` whose ``Idempotency-Key`` makes a repeat return the first result. Everything else
(SMS sends, code confirmation, cancel, revoke, link) is sent once: a lost answer surfaces as
``BackendUnavailable`` and the caller decides.

Time: ``timeout`` bounds one operation, its repeats and the pauses between them included, so a
stalled server costs one ``timeout`` rather than one per attempt (three attempts of 5 s each
were 15 s of silence for the user). ``attempt_timeout`` (by default the same) bounds a single
request; repeats therefore follow quick failures (a refused connection, a 503), and a repeat
that cannot finish in what is left is cut off with the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any, Self, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import ValidationError
from yarl import URL

from backend_client.errors import BackendError, BackendUnavailable, error_from_payload
from backend_client.records_api import spec
from backend_client.records_api.logs import log_event

# The client's log name from before the transport had a module of its own: keep it stable.
logger = logging.getLogger("backend_client.http")

ArgsT = TypeVar("ArgsT", bound=spec.Args)
OutT = TypeVar("OutT")

RETRY_STATUSES = frozenset({502, 503, 504})
"""Answers that mean "not processed, try again" (gateway errors and an unavailable backend)."""
BACKOFF_SECONDS = 0.1
"""First pause between attempts; doubled each time, plus up to 50 % jitter."""


class HttpTransport:
    """One shared ``aiohttp.ClientSession`` (created on first use, closed by ``aclose``)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        attempt_timeout: float | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        if not token or not token.isascii() or any(c.isspace() for c in token):
            raise ValueError("token must be non-empty printable ASCII (it goes in a header)")
        if timeout <= 0 or retries < 0 or (attempt_timeout is not None and attempt_timeout <= 0):
            raise ValueError("timeouts must be > 0 and retries >= 0")
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._operation_timeout = timeout
        self._timeout = aiohttp.ClientTimeout(total=min(timeout, attempt_timeout or timeout))
        self._retries = retries
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- transport -------------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("HttpRecordsBackend is closed")
        if self._session is None:
            # Created on first use: a session must be created inside the running event loop.
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"Authorization": f"Bearer {self._token}"},
            )
        return self._session

    async def _call(self, endpoint: spec.Endpoint[ArgsT, OutT], args: ArgsT) -> OutT:
        body = await self._send(endpoint, args)
        try:
            return endpoint.response.validate_json(body)
        except ValidationError:
            raise BackendUnavailable(f"{endpoint.op}: malformed response") from None

    async def _send(self, endpoint: spec.Endpoint[ArgsT, Any], args: ArgsT) -> bytes:
        """The body of a 2xx answer within ``timeout``; retries as the module docstring says;
        raises typed errors."""
        budget = asyncio.timeout(self._operation_timeout)
        try:
            async with budget:
                return await self._attempts(endpoint, args, budget)
        except TimeoutError:
            # Only the operation's own deadline gets here: attempts turn theirs into errors.
            log_event(logger, "records_http.timeout", logging.WARNING, op=endpoint.op)
            raise BackendUnavailable(f"{endpoint.op}: no answer in time") from None

    async def _attempts(
        self, endpoint: spec.Endpoint[ArgsT, Any], args: ArgsT, budget: asyncio.Timeout
    ) -> bytes:
        session = self._get_session()
        data = args.model_dump(mode="json", exclude_none=True)
        # Ids are opaque: quote every character that could change the path's meaning.
        path = endpoint.path.format_map(
            {name: quote(str(data.pop(name)), safe="") for name in endpoint.path_fields}
        )
        url = URL(self._base_url + path, encoded=True)
        headers = {
            header: str(data.pop(name))
            for name, header in spec.HEADER_FIELDS.items()
            if name in data
        }
        query = {k: _query_value(v) for k, v in data.items()} if endpoint.method == "GET" else None
        payload = data if endpoint.method == "POST" else None
        attempts = 1 + (self._retries if endpoint.retry_safe else 0)
        error: BackendError = BackendUnavailable(endpoint.op)
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(
                    BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random() / 2)
                )
                log_event(
                    logger, "records_http.retry", logging.WARNING, op=endpoint.op, attempt=attempt
                )
            try:
                async with session.request(
                    endpoint.method, url, params=query, json=payload, headers=headers
                ) as response:
                    status = response.status
                    content = await response.read()
                    if 200 <= status < 300:
                        return content
                    error = _error_from_response(endpoint.op, status, response.headers, content)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if budget.expired():
                    # The budget ran out during the request, and aiohttp's own timer, firing at
                    # the same moment, turned our cancellation into its TimeoutError: stop here.
                    raise TimeoutError from None
                error = BackendUnavailable(f"{endpoint.op}: {type(exc).__name__}")
                continue
            if status not in RETRY_STATUSES:
                break
        raise error

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_from_response(op: str, status: int, headers: Any, content: bytes) -> BackendError:
    """The typed error an answer carries; anything the client cannot trust -> unavailable."""
    if status >= 500:
        # Nothing we can act on beyond "try later", whatever the body says.
        return BackendUnavailable(f"{op}: HTTP {status}")
    if status == 401:
        # A deployment problem, not the patient's: the bot shows "service unavailable".
        log_event(logger, "records_http.unauthorized", logging.ERROR, op=op)
        return BackendUnavailable(f"{op}: service token rejected")
    try:
        payload = json.loads(content)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("code"), str):
        return BackendUnavailable(f"{op}: unexpected HTTP {status}")
    if payload["code"] in ("rate_limited", "lookup_locked") and "retry_after" not in payload:
        payload["retry_after"] = _int_or(headers.get("Retry-After"), 60)
    # Unknown codes (a newer server, or unknown_endpoint) become a plain BackendError.
    return error_from_payload(payload)


def _int_or(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
