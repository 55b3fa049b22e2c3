"""The medical record as a person uses it: the real bot polling the emulator over HTTP, cards
linked through the bot's real linking flow, every section browsed, charts and PDFs received."""

from __future__ import annotations

import io
import random
import string

import pytest
from pypdf import PdfReader

from backend_client.models import Requester, Section
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.emulator import UserDriver
from bot.offline import OfflineStack
from bot.services.records.browse import PAGE_SIZE
from bot.services.records.chart import png_size
from bot.services.records.periods import Period
from keyboards.records import DocAction, RecDocCb, RecListCb, RecTrendCb
from tests.e2e.helpers import last_text
from tests.e2e.people import link_own_card, link_relative, new_user, persona

pytestmark = pytest.mark.e2e

MENU = "🩺 Medical record"
RECORDS = "Appointments and the medical record"
APPOINTMENTS = "Appointments only"


def data_of(user: UserDriver, prefix: str) -> list[str]:
    """Callback data of the newest message's buttons that start with `prefix`."""
    rows = user.last_message.inline_keyboard
    return [
        b["callback_data"] for row in rows for b in row if b["callback_data"].startswith(prefix)
    ]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_every_section_of_my_mothers_and_my_own_card(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    anna, galina = await persona(sandbox, "mother"), await persona(sandbox, "elderly_mother")
    user = await new_user(stack, 6101, "Anna", anna.phone)
    await link_own_card(user, sandbox, anna)
    sandbox_clock.advance(seconds=61)  # one code a minute per requester
    await link_relative(user, sandbox, galina, "Mum", RECORDS)

    await user.press(MENU)
    assert "Whose medical record?" in last_text(user)
    mum_button = next(
        b for row in user.last_message.inline_keyboard for b in row if b["text"] == "Mum"
    )
    mum = int(mum_button["callback_data"].split(":")[1])
    await user.press("Mum")
    home = user.last_message
    assert "Medical record</b> — Mum" in home.html and home.protect_content
    for name in home.buttons[: len(Section)]:
        await user.press(name)
        listed = user.last_message
        assert listed.protect_content
        assert "page 1 of" in listed.html or "no entries" in listed.html, name
        await user.press("⬅️ Sections")

    requester = requester_id_for(stack.app.keys, 6101)
    grant = next(
        g
        for g in await sandbox.list_grants_received(requester)
        if g.patient.patient_id == galina.patient_id
    )
    # Paging and the period filter edit the list in place. How many lab results there are
    # depends on the day the sandbox was seeded (this year's check-ups may be ahead): ask it.
    labs = await sandbox.list_entries(grant.grant_id, requester, Section.LABS, limit=1)
    pages = -(-labs.total // PAGE_SIZE)
    assert pages >= 2
    await user.press("🧪 Lab results")
    assert f"page 1 of {pages}" in last_text(user)
    await user.press("Older ▶️")
    assert f"page 2 of {pages}" in last_text(user)
    await user.press("◀️ Newer")
    assert f"page 1 of {pages}" in last_text(user)
    await user.press("3 months")
    assert "Period: 3 months" in last_text(user)
    again = await user.press("• 3 months")  # the same page again: nothing to change, no error
    assert again is not None and not again.show_alert

    # A lab document: the table with marks, a trend chart, the PDF.
    hba1c = await sandbox.analyte_history(grant.grant_id, requester, "HBA1C")
    opened = await user.press_data(
        user.last_message.message_id,
        RecDocCb(a=DocAction.OPEN, p=mum, e=hba1c.points[-1].entry_id).pack(),
    )
    assert opened.text is None
    document = user.last_message
    assert document.protect_content and "HbA1c" in document.html and "normal" in document.html
    # The analyte in the reader's language, not the backend's Russian (issue 14).
    await user.press("📈 Trend: Glycated haemoglobin (HbA1c)")
    chart = user.photos[-1]
    assert png_size(chart.data) == (1080, 720) and (chart.width, chart.height) == (1080, 720)
    await user.press("📄 PDF")
    assert "HbA1c" in pdf_text(user.documents[-1].data)

    # My own card: the journal of who viewed it, and the export with its contents.
    await user.press("⬅️ Sections")
    await user.press("👥 Another person")
    own_label = next(b for b in user.last_message.buttons if b != "Mum")
    await user.press(own_label)
    await user.press("🩺 Visit protocols")
    await user.press("⬅️ Sections")
    await user.press("👁 Who viewed my card")
    assert "You: opened the list" in last_text(user)
    await user.press(MENU)  # remembered: straight to my own card
    assert own_label in last_text(user)
    await user.press("📄 Export as PDF")
    await user.press("All")
    export = pdf_text(user.documents[-1].data)
    assert "Contents" in export and "Visit protocols" in export


async def test_refusals_appointments_only_revoked_and_forged(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    # Appointments-only access: the record is not shown, and the bot says why.
    son = await new_user(stack, 6111, "Alexey", (await persona(sandbox, "adult_son")).phone)
    await link_relative(son, sandbox, await persona(sandbox, "elderly_father"), "Dad", APPOINTMENTS)
    await son.press(MENU)
    assert "covers appointments only" in last_text(son)

    # Anna opens her mother's record (its buttons are used again below).
    anna = await new_user(stack, 6112, "Anna", (await persona(sandbox, "mother")).phone)
    galina = await persona(sandbox, "elderly_mother")
    sandbox_clock.advance(seconds=61)
    await link_relative(anna, sandbox, galina, "Mum", RECORDS)
    await anna.press(MENU)  # her only card with the record: no "for whom" question
    mum = int(data_of(anna, "rl:")[0].split(":")[1])
    await anna.press("🧪 Lab results")
    old_list = anna.last_message
    entry = data_of(anna, "rd:o:")[0]
    # Someone else forging buttons: other people's person ids, entry ids, junk.
    eve = await new_user(stack, 6113, "Eve", (await persona(sandbox, "single")).phone)
    await link_own_card(eve, sandbox, await persona(sandbox, "single"))
    seen = len(eve.messages)
    rng = random.Random(6113)
    forged = [
        RecListCb(p=mum, s=Section.LABS, f=Period.ALL, n=0).pack(),
        RecTrendCb(p=mum, c="HBA1C").pack(),
        entry,
        RecDocCb(a=DocAction.PDF, p=mum, e=entry.split(":")[-1]).pack(),
    ]
    forged += [
        rng.choice(["rd:o:", "rl:", "rt:", "rh:", "rx:"])
        + "".join(rng.choice(string.ascii_letters + string.digits + ":") for _ in range(20))
        for _ in range(10)
    ]
    for data in forged:
        answer = await eve.press_data(eve.last_message.message_id, data)
        assert answer.text  # every press is answered, with a reason
    assert eve.photos == [] and eve.documents == []
    assert not [m for m in eve.messages[seen:] if m.protect_content]

    # Now the owner's access is revoked: Anna's old buttons refuse.
    requester = Requester(id=requester_id_for(stack.app.keys, 6112), display_name="Anna")
    for grant in await sandbox.list_grants_received(requester.id):
        await sandbox.revoke_grant(grant.grant_id, requester)
    answer = await anna.press_data(old_list.message_id, entry)
    assert answer.show_alert and "revoked" in (answer.text or "")
