"""The Records API's endpoints for the medical record, the event feed and the health check.

See ``spec.py`` for how an ``Endpoint`` and its ``Args`` become a request.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from backend_client.models import AnalyteHistory, Document, EntryPage, EventBatch, Section
from backend_client.protocol import RecordsBackend
from backend_client.records_api.spec import ACCESS_ERRORS, Args, Endpoint, GrantArgs


class ListEntriesArgs(GrantArgs):
    section: Section
    since: date | None = None
    until: date | None = None
    cursor: str | None = None
    limit: int = 8


class EntryArgs(GrantArgs):
    entry_id: str


class AnalyteHistoryArgs(GrantArgs):
    analyte_code: str
    since: date | None = None
    until: date | None = None


class ReadEventsArgs(Args):
    after: str | None = None
    limit: int = 100


class NoArgs(Args):
    pass


class HealthStatus(BaseModel):
    """Body of a successful ``GET /v1/health``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    status: Literal["ok"] = "ok"


async def _health(backend: RecordsBackend) -> HealthStatus:
    await backend.health()
    return HealthStatus()


# --- the record ----------------------------------------------------------------------------------

LIST_ENTRIES = Endpoint(
    "list_entries",
    "GET",
    "/v1/grants/{grant_id}/sections/{section}/entries",
    "One page of a section of the record, newest first",
    ListEntriesArgs,
    TypeAdapter(EntryPage),
    lambda b, a: b.list_entries(
        a.grant_id,
        a.requester_id,
        a.section,
        since=a.since,
        until=a.until,
        cursor=a.cursor,
        limit=a.limit,
    ),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
GET_DOCUMENT = Endpoint(
    "get_document",
    "GET",
    "/v1/grants/{grant_id}/documents/{entry_id}",
    "One document of the record",
    EntryArgs,
    TypeAdapter(Document),
    lambda b, a: b.get_document(a.grant_id, a.requester_id, a.entry_id),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
GET_DOCUMENT_PDF = Endpoint(
    "get_document_pdf",
    "GET",
    "/v1/grants/{grant_id}/documents/{entry_id}/pdf",
    "One document rendered as PDF",
    EntryArgs,
    TypeAdapter(bytes),
    lambda b, a: b.get_document_pdf(a.grant_id, a.requester_id, a.entry_id),
    errors=ACCESS_ERRORS,
    retry_safe=True,
    media_type="application/pdf",
)
ANALYTE_HISTORY = Endpoint(
    "analyte_history",
    "GET",
    "/v1/grants/{grant_id}/analytes/{analyte_code}",
    "All numeric results of one analyte, oldest first",
    AnalyteHistoryArgs,
    TypeAdapter(AnalyteHistory),
    lambda b, a: b.analyte_history(a.grant_id, a.requester_id, a.analyte_code, a.since, a.until),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)


# --- events and service --------------------------------------------------------------------------

READ_EVENTS = Endpoint(
    "read_events",
    "GET",
    "/v1/events",
    "The durable ordered event feed (ids only, never medical content)",
    ReadEventsArgs,
    TypeAdapter(EventBatch),
    lambda b, a: b.read_events(a.after, a.limit),
    retry_safe=True,
)
HEALTH = Endpoint(
    "health",
    "GET",
    "/v1/health",
    "200 if the backend works, else 503 backend_unavailable",
    NoArgs,
    TypeAdapter(HealthStatus),
    lambda b, a: _health(b),
    retry_safe=True,
)
