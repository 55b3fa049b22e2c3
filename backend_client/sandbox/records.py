"""Reading the record: sections page by page, documents, PDFs, analyte trends."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from datetime import date
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backend_client.errors import InvalidRequest, NotFound
from backend_client.models import (
    AccessAction,
    AnalyteFlag,
    AnalyteHistory,
    AnalytePoint,
    AnalyteResult,
    Document,
    DocumentField,
    EntryPage,
    EntrySummary,
    LabPanel,
    Scope,
    Section,
)
from backend_client.sandbox import schema as s
from backend_client.sandbox.core import SandboxCore, check_id
from backend_client.sandbox.pdf import render_document_pdf

MAX_PAGE = 50


def encode_cursor(day: date, entry_id: str) -> str:
    return base64.urlsafe_b64encode(f"{day.isoformat()}|{entry_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, entry_id = raw.split("|", 1)
        return date.fromisoformat(day), entry_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest("cursor") from exc


def _document(row: Row[Any]) -> Document:
    body = json.loads(row.body)
    return Document(
        entry_id=row.id,
        patient_id=row.patient_id,
        section=Section(row.section),
        title=row.title,
        date=row.date,
        performed_at=row.performed_at,
        doctor_name=row.doctor_name,
        doctor_specialty=row.doctor_specialty,
        clinic_name=row.clinic_name,
        fields=[DocumentField(**f) for f in body["fields"]],
        text=body.get("text"),
        panels=[
            LabPanel(name=p["name"], results=[AnalyteResult(**r) for r in p["results"]])
            for p in body.get("panels", [])
        ],
        has_abnormal=row.has_abnormal,
    )


class RecordsMixin(SandboxCore):
    async def list_entries(
        self,
        grant_id: str,
        requester_id: str,
        section: Section,
        *,
        since: date | None = None,
        until: date | None = None,
        cursor: str | None = None,
        limit: int = 8,
    ) -> EntryPage:
        try:
            section = Section(section)
        except ValueError as exc:
            raise InvalidRequest("section") from exc
        if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest("limit")
        if since is not None and until is not None and since > until:
            raise InvalidRequest("since")
        after = decode_cursor(cursor) if cursor is not None else None
        e = s.entries
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.RECORDS)
            where: list[Any] = [e.c.patient_id == grant.patient_id, e.c.section == section.value]
            if since is not None:
                where.append(e.c.date >= since)
            if until is not None:
                where.append(e.c.date <= until)
            total = (await conn.execute(select(func.count()).where(*where))).scalar_one()
            page_where = list(where)
            if after is not None:
                day, entry_id = after
                page_where.append(or_(e.c.date < day, and_(e.c.date == day, e.c.id < entry_id)))
            q = (
                select(
                    e.c.id,
                    e.c.title,
                    e.c.date,
                    e.c.doctor_name,
                    e.c.clinic_name,
                    e.c.has_abnormal,
                )
                .where(*page_where)
                .order_by(e.c.date.desc(), e.c.id.desc())
                .limit(limit + 1)
            )
            rows = (await conn.execute(q)).all()
            if cursor is None:
                await self.log_access(conn, grant, AccessAction.VIEWED_RECORDS, section.value)
        items = [
            EntrySummary(
                entry_id=r.id,
                section=section,
                title=r.title,
                date=r.date,
                doctor_name=r.doctor_name,
                clinic_name=r.clinic_name,
                has_abnormal=r.has_abnormal,
            )
            for r in rows[:limit]
        ]
        next_cursor = (
            encode_cursor(rows[limit - 1].date, rows[limit - 1].id) if len(rows) > limit else None
        )
        return EntryPage(items=items, next_cursor=next_cursor, total=total)

    async def _entry(self, conn: AsyncConnection, patient_id: str, entry_id: str) -> Row[Any]:
        check_id(entry_id, "entry_id")
        row = (await conn.execute(select(s.entries).where(s.entries.c.id == entry_id))).first()
        if row is None or row.patient_id != patient_id:  # another patient's entry: same answer
            raise NotFound("entry not found")
        return row

    async def get_document(self, grant_id: str, requester_id: str, entry_id: str) -> Document:
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.RECORDS)
            row = await self._entry(conn, grant.patient_id, entry_id)
            await self.log_access(conn, grant, AccessAction.VIEWED_DOCUMENT, row.section)
        return _document(row)

    async def get_document_pdf(self, grant_id: str, requester_id: str, entry_id: str) -> bytes:
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.RECORDS)
            row = await self._entry(conn, grant.patient_id, entry_id)
            patient = await self.patient_row(conn, grant.patient_id)
            await self.log_access(conn, grant, AccessAction.VIEWED_DOCUMENT, row.section)
        doc = _document(row)
        full_name = f"{patient.last_name} {patient.first_name} {patient.middle_name}"
        # fpdf2 is CPU-bound (~tens of ms): keep the event loop responsive.
        return await asyncio.to_thread(render_document_pdf, doc, full_name, patient.birth_date)

    async def analyte_history(
        self,
        grant_id: str,
        requester_id: str,
        analyte_code: str,
        since: date | None = None,
        until: date | None = None,
    ) -> AnalyteHistory:
        check_id(analyte_code, "analyte_code")
        if since is not None and until is not None and since > until:
            raise InvalidRequest("since")
        a = s.analyte_values
        async with self.tx() as conn:
            grant = await self.require_grant(conn, grant_id, requester_id, Scope.RECORDS)
            where: list[Any] = [a.c.patient_id == grant.patient_id, a.c.code == analyte_code]
            if since is not None:
                where.append(a.c.date >= since)
            if until is not None:
                where.append(a.c.date <= until)
            rows = (await conn.execute(select(a).where(*where).order_by(a.c.date, a.c.id))).all()
            if not rows:
                any_row = (
                    await conn.execute(
                        select(a.c.id)
                        .where(a.c.patient_id == grant.patient_id, a.c.code == analyte_code)
                        .limit(1)
                    )
                ).first()
                if any_row is None:
                    raise NotFound("analyte not found")
            latest = rows[-1] if rows else None
            if latest is None:
                meta = (
                    await conn.execute(
                        select(a)
                        .where(a.c.patient_id == grant.patient_id, a.c.code == analyte_code)
                        .limit(1)
                    )
                ).one()
            else:
                meta = latest
        return AnalyteHistory(
            code=analyte_code,
            name=meta.name,
            unit=meta.unit,
            ref_low=meta.ref_low,
            ref_high=meta.ref_high,
            points=[
                AnalytePoint(
                    date=r.date,
                    value=r.value,
                    flag=AnalyteFlag(r.flag) if r.flag else None,
                    entry_id=r.entry_id,
                )
                for r in rows
            ],
        )
