"""The Records API's wire contract as data: one ``Endpoint`` per protocol operation.

The server (``app.py``) routes and parses with it, the client (``backend_client.http``) builds
requests with it and ``openapi.py`` renders ``openapi.yaml`` from it, so the three cannot drift.

Each endpoint has one pydantic ``Args`` model holding every input of the operation. Where a field
travels follows from the endpoint, not from per-field annotations: names in ``{}`` of the path
go in the path, ``idempotency_key`` goes in the ``Idempotency-Key`` header, the rest is the query
string of a GET or the JSON body of a POST. Args models only check types; the backend itself
validates values (so errors are the same in-process and over HTTP).

This module holds the building blocks and the error statuses; the endpoints and their Args
live by concern in ``spec_access.py``, ``spec_record.py`` and ``spec_appointments.py``, and
``spec_endpoints.ENDPOINTS`` lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter

from backend_client.protocol import RecordsBackend

HEADER_FIELDS: dict[str, str] = {"idempotency_key": "Idempotency-Key"}
"""Args fields sent as HTTP headers (field name -> header name)."""


class Args(BaseModel):
    # extra="forbid": a misspelt query parameter or body field is a 400, not silently ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")


ArgsT = TypeVar("ArgsT", bound=Args)
OutT = TypeVar("OutT")


@dataclass(frozen=True, eq=False)
class Endpoint(Generic[ArgsT, OutT]):
    op: str
    """The ``RecordsBackend`` method (also the route name and the OpenAPI ``operationId``)."""
    method: Literal["GET", "POST"]
    path: str
    summary: str
    args: type[ArgsT]
    response: TypeAdapter[OutT]
    call: Callable[[RecordsBackend, ArgsT], Awaitable[OutT]]
    errors: tuple[str, ...] = ()
    """Error codes the operation may answer besides invalid_request / backend_unavailable."""
    retry_safe: bool = False
    """Clients may repeat the request after a timeout / 502-504 (reads and keyed writes only)."""
    media_type: str = "application/json"
    path_fields: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_fields", tuple(re.findall(r"\{(\w+)\}", self.path)))


# GET endpoints identify the requester by id alone: a display name (personal data) has no
# place in a URL, where proxies and access logs would keep it.


class GrantArgs(Args):
    grant_id: str
    requester_id: str


ACCESS_ERRORS = ("access_denied", "not_found")
"""Errors of operations that act through a grant (no such grant, or not the requester's)."""

# --- errors --------------------------------------------------------------------------------------

STATUS_BY_CODE: dict[str, int] = {
    "invalid_request": 400,
    "access_denied": 403,
    "not_found": 404,
    "slot_taken": 409,
    "already_booked": 409,
    "grant_limit_reached": 409,
    "code_expired": 410,
    "code_exhausted": 410,
    "code_wrong": 422,
    "rate_limited": 429,
    "lookup_locked": 429,
    "backend_error": 500,
    "backend_unavailable": 503,
}
"""HTTP status of each ``BackendError.code``; the body is always ``err.to_payload()``."""

UNAUTHORIZED = "unauthorized"
"""Code of the 401 answer (missing or wrong service token); not a ``BackendError``."""
