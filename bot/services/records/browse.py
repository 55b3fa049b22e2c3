"""Reading a card for the bot: the access check, the backend call within a deadline, the
journal entry — in that order, for every page, document, chart and PDF."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import BackendUnavailable, NotFound
from backend_client.models import (
    AccessLogEntry,
    AnalyteHistory,
    Document,
    EntryPage,
    PatientRef,
    Relation,
    Requester,
    Scope,
    Section,
)
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.crypto import FieldCipher
from bot.db.models import LinkedPerson, User
from bot.services import people
from bot.services.linking import patient_ref_hash
from bot.services.records.journal import JournalLine, ViewAction, record_view, views_of
from bot.services.records.periods import Period, since
from bot.services.records.view import MOSCOW

PAGE_SIZE = 6
EXPORT_MAX_DOCUMENTS = 200
SECTIONS: tuple[Section, ...] = tuple(Section)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ListPage:
    card: LinkedPerson
    entries: EntryPage
    page: int
    cursors: list[str | None]
    """Cursor of every page up to the next one (index = page number): for "previous"."""

    @property
    def has_next(self) -> bool:
        return self.entries.next_cursor is not None

    @property
    def pages(self) -> int:
        return max(1, -(-self.entries.total // PAGE_SIZE))


def moscow_today(now: datetime) -> date:
    return now.astimezone(MOSCOW).date()


class RecordDesk:
    """One user reading one card; every method re-checks the grant first."""

    def __init__(
        self,
        session: AsyncSession,
        backend: RecordsBackend,
        cipher: FieldCipher,
        user: User,
        requester: Requester,
        timeout: float,
        clock: Clock,
    ) -> None:
        self._session, self._backend, self._cipher = session, backend, cipher
        self._user, self._requester, self._timeout = user, requester, timeout
        self._clock = clock

    async def _call(self, call: Awaitable[_T]) -> _T:
        # A slow backend gets an honest "temporarily unavailable" rather than a spinning button.
        try:
            return await asyncio.wait_for(call, self._timeout)
        except TimeoutError as error:
            raise BackendUnavailable("timed out") from error

    async def card(self, person_id: object, action: str) -> LinkedPerson:
        """The row if the user may view this record now (else `people.AccessRefused`)."""
        return await self._call(
            people.check_access(
                self._session,
                self._backend,
                self._user,
                person_id,
                Scope.RECORDS,
                self._requester,
                action=action,
                now=self._clock(),
            )
        )

    async def _journal(
        self, row: LinkedPerson, action: ViewAction, section: str | None, entry: str | None = None
    ) -> None:
        await record_view(
            self._session,
            self._user.id,
            row.patient_ref_hash,
            self._clock(),
            action,
            section,
            entry,
        )

    async def page(
        self,
        person_id: object,
        section: Section,
        period: Period,
        page: int,
        known: list[str | None] | None = None,
    ) -> ListPage:
        """Page `page` (0-based) of the section; `known` cursors save re-walking from the top."""
        row = await self.card(person_id, "records.list")
        start = since(period, moscow_today(self._clock()))
        cursors: list[str | None] = list(known or [None])[: page + 1]
        if not cursors or cursors[0] is not None:
            cursors = [None]
        while True:
            index = len(cursors) - 1
            entries = await self._call(
                self._backend.list_entries(
                    row.grant_id,
                    self._requester.id,
                    section,
                    since=start,
                    cursor=cursors[index],
                    limit=PAGE_SIZE,
                )
            )
            if index >= page or entries.next_cursor is None:
                break
            cursors.append(entries.next_cursor)  # an old button: walk forward to that page
        await self._journal(row, ViewAction.LIST, section.value)
        return ListPage(row, entries, index, [*cursors, entries.next_cursor])

    async def document(self, person_id: object, entry_id: str) -> Document:
        row = await self.card(person_id, "records.document")
        doc = await self._call(
            self._backend.get_document(row.grant_id, self._requester.id, entry_id)
        )
        self._same_patient(row, doc)
        await self._journal(row, ViewAction.DOCUMENT, doc.section.value, doc.entry_id)
        return doc

    def _same_patient(self, row: LinkedPerson, doc: Document) -> None:
        # Defence in depth: the backend scopes ids to the grant, and we check it did.
        if patient_ref_hash(self._cipher, doc.patient_id) != row.patient_ref_hash:
            people.log_denied(self._user, row.id, "foreign_document", "records.document")
            raise NotFound("not this patient's document")

    async def patient(self, row: LinkedPerson) -> PatientRef:
        """Whom the card is of, as the backend names them (for a file's name and title: the
        user's own label for the card may be private)."""
        grant = await self._call(self._backend.get_grant(row.grant_id, self._requester))
        return grant.patient

    async def pdf(self, person_id: object, entry_id: str) -> tuple[LinkedPerson, Document, bytes]:
        """The backend's PDF of one document, with the card and the document it is of."""
        row = await self.card(person_id, "records.pdf")
        doc = await self._call(
            self._backend.get_document(row.grant_id, self._requester.id, entry_id)
        )
        self._same_patient(row, doc)
        data = await self._call(
            self._backend.get_document_pdf(row.grant_id, self._requester.id, entry_id)
        )
        await self._journal(row, ViewAction.PDF, doc.section.value, doc.entry_id)
        return row, doc, data

    async def history(self, person_id: object, analyte_code: str) -> AnalyteHistory:
        row = await self.card(person_id, "records.chart")
        found = await self._call(
            self._backend.analyte_history(row.grant_id, self._requester.id, analyte_code)
        )
        await self._journal(row, ViewAction.CHART, Section.LABS.value)
        return found

    async def export(
        self, person_id: object, period: Period
    ) -> tuple[LinkedPerson, list[Document]]:
        """Every document of the period, section by section, newest first; at most 200."""
        row = await self.card(person_id, "records.export")
        return row, await self.export_documents(row, period)

    async def export_documents(
        self, row: LinkedPerson, period: Period, progress: Callable[[], None] | None = None
    ) -> list[Document]:
        """`export` for a card already checked with `card` (the user is told to wait between:
        fetching up to 200 documents takes longer than one answer may). `progress` is called
        after each backend answer: a backend that answers keeps the export going, one that
        stalls still ends it within one call's budget."""
        progress = progress or (lambda: None)
        start = since(period, moscow_today(self._clock()))
        docs: list[Document] = []
        for section in SECTIONS:
            cursor: str | None = None
            while len(docs) < EXPORT_MAX_DOCUMENTS:
                entries = await self._call(
                    self._backend.list_entries(
                        row.grant_id,
                        self._requester.id,
                        section,
                        since=start,
                        cursor=cursor,
                        limit=50,
                    )
                )
                progress()
                for item in entries.items[: EXPORT_MAX_DOCUMENTS - len(docs)]:
                    doc = await self._call(
                        self._backend.get_document(row.grant_id, self._requester.id, item.entry_id)
                    )
                    progress()
                    self._same_patient(row, doc)
                    docs.append(doc)
                cursor = entries.next_cursor
                if cursor is None:
                    break
        await self._journal(row, ViewAction.EXPORT, None)
        return docs

    async def journal(self) -> tuple[list[JournalLine], list[AccessLogEntry]]:
        """The owner's own card: the bot's journal and the backend's access log."""
        own = await people.own_card(self._session, self._user, self._clock())
        if own is None:
            raise people.AccessRefused(people.AccessRefused.NO_OWN_CARD)
        await self.card(own.id, "records.journal")
        lines = await views_of(self._session, own.patient_ref_hash, self._user.id)
        log = await self._call(self._backend.access_log(own.grant_id, self._requester, limit=30))
        return lines, log


def is_own(row: LinkedPerson) -> bool:
    return row.relation == Relation.SELF.value
