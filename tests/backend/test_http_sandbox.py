"""The Records API in front of the real sandbox.

The contract suite checks behaviour; here: the wire loses nothing (each read is made over HTTP
and in-process on the same state and the answers compared field for field), and no input, however
odd, gets a 500."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin
from urllib.parse import quote

import aiohttp
import pytest

from backend_client.models import Requester, Section
from backend_client.records_api import running_records_api
from backend_client.records_api.spec import HEADER_FIELDS, Endpoint
from backend_client.records_api.spec_endpoints import ENDPOINTS
from backend_client.sandbox import ManualClock
from backend_client.sandbox.clock import msk_date
from backend_client.sandbox.testing import FIXED_NOW, copy_template
from tests.backend.conftest import Harness, http_over_sandbox, requester
from tests.sandbox_fixtures import open_sandbox

ME = requester("parity", "Ольга Н.")


async def both(h: Harness, op: str, *args: Any, **kwargs: Any) -> Any:
    over_http = await getattr(h.backend, op)(*args, **kwargs)
    in_process = await getattr(h.sandbox, op)(*args, **kwargs)
    assert over_http == in_process, op
    return over_http


async def test_reads_over_http_equal_reads_in_process(
    sandbox_template: Path, tmp_path: Path
) -> None:
    path = copy_template(sandbox_template, tmp_path / "parity.sqlite3")
    async with http_over_sandbox(path, ManualClock(FIXED_NOW)) as h:
        grant = await h.link_self("elderly_mother", ME)
        g, me = grant.grant_id, ME.id
        assert await both(h, "get_grant", g, ME) == grant
        await both(h, "list_grants_received", me)
        await both(h, "list_grants_given", g, ME)
        await both(h, "access_log", g, ME, limit=5)

        seen_entries = 0
        for section in Section:
            page = await both(h, "list_entries", g, me, section, limit=3)
            if page.next_cursor:
                await both(h, "list_entries", g, me, section, cursor=page.next_cursor, limit=3)
            for entry in page.items[:1]:
                seen_entries += 1
                document = await both(h, "get_document", g, me, entry.entry_id)
                pdf = await h.backend.get_document_pdf(g, me, entry.entry_id)
                assert pdf.startswith(b"%PDF")
                for panel in document.panels[:1]:
                    for result in panel.results:
                        if result.value is not None:
                            await both(h, "analyte_history", g, me, result.code)
                            break
        assert seen_entries > 0

        today = msk_date(FIXED_NOW)
        specialties = await both(h, "list_specialties", g, me)
        await both(h, "list_referrals", g, me)
        doctors = await both(h, "list_doctors", g, me, specialty_code=specialties[0].code)
        doctor = doctors[0]
        week = (today, today + timedelta(days=14))
        slots = await both(h, "free_slots", g, me, doctor.doctor_id, *week)
        await both(
            h,
            "search_free_slots",
            specialty_code=specialties[0].code,
            date_from=week[0],
            date_to=week[1],
        )

        booked = await h.backend.book(g, me, slots[0].slot_id, "parity-1")
        assert await h.backend.book(g, me, slots[0].slot_id, "parity-1") == booked
        await both(h, "get_appointment", g, me, booked.appointment_id)
        moved = await h.backend.reschedule(
            g, me, booked.appointment_id, slots[1].slot_id, "parity-2"
        )
        assert moved.appointment_id == booked.appointment_id
        assert moved.previous_starts_at == booked.starts_at
        await both(h, "list_appointments", g, me, upcoming=True)
        cancelled = await h.backend.cancel_appointment(g, me, booked.appointment_id)
        assert not cancelled.is_active
        await both(h, "list_appointments", g, me)
        await both(h, "list_appointments", g, me, upcoming=False)

        batch = await both(h, "read_events")
        await both(h, "read_events", batch.cursor, 10)
        await h.backend.health()
        revoked = await h.backend.revoke_grant(g, ME)
        assert revoked.revoked_at is not None


# --- no input crashes the server -----------------------------------------------------------------


def typed_value(annotation: Any, variant: int) -> Any:
    """A value of the right wire type but meaningless content (``variant`` picks which)."""
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if annotation is bool:
        return "true"
    if annotation is int:
        return ["0", "-1", "99999999999999999999"][variant % 3]
    if annotation is date:
        return ["1900-01-01", "2999-12-31", "2026-03-02"][variant % 3]
    if annotation is datetime:
        return ["1900-01-01T00:00:00+00:00", "2999-01-01T00:00:00", "2026-03-02T10:00:00+03:00"][
            variant % 3
        ]
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return list(annotation)[variant % len(annotation)].value
    if annotation is Requester:
        return {"id": "tg-" + "x" * 100 * variant, "display_name": ""}
    return ["", "zz", "ж" * 300, "../../etc", "c:0:999"][variant % 5]


def inputs(endpoint: Endpoint[Any, Any], variant: int) -> tuple[str, dict[str, str], Any]:
    values = {
        name: typed_value(info.annotation, variant)
        for name, info in endpoint.args.model_fields.items()
    }
    path = endpoint.path.format_map(
        {name: quote(str(values.pop(name)) or "x", safe="") for name in endpoint.path_fields}
    )
    headers = {h: str(values.pop(name)) for name, h in HEADER_FIELDS.items() if name in values}
    return path, headers, values


@pytest.mark.parametrize("variant", range(5))
async def test_no_input_makes_a_500(sandbox_template: Path, tmp_path: Path, variant: int) -> None:
    token = {"Authorization": "Bearer t"}
    async with (
        open_sandbox(sandbox_template, tmp_path, ManualClock(FIXED_NOW)) as sandbox,
        running_records_api(sandbox, service_token="t") as url,
        aiohttp.ClientSession(url, headers=token) as session,
    ):
        for endpoint in ENDPOINTS:
            target, headers, values = inputs(endpoint, variant)
            if endpoint.method == "GET":
                request = session.get(target, params=values, headers=headers)
            else:
                request = session.post(target, json=values, headers=headers)
            async with request as response:
                assert response.status < 500, (endpoint.op, await response.text())
                if response.status >= 400:
                    assert "code" in await response.json()
