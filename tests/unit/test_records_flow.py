"""The medical record through the real dispatcher against a real sandbox: sections, paging,
the period filter, documents, trends, PDFs, export, the journal, and every refusal."""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiogram import Dispatcher
from sqlalchemy import select

from backend_client.errors import BackendUnavailable
from backend_client.models import Requester, Section
from backend_client.protocol import RecordsBackend
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.db.records_models import RecordView
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.services import privacy
from bot.services.records.browse import PAGE_SIZE
from bot.services.records.chart import png_size
from bot.services.records.periods import Period
from bot.settings import Settings
from keyboards.policies import ScopeChoice
from keyboards.records import DocAction, RecDocCb, RecListCb, RecTrendCb
from tests.conftest import TEST_KEY, sqlite_settings, unthrottled
from tests.sandbox_fixtures import TEST_NOW, open_sandbox
from tests.unit.flow_fixtures import chat_for, clock, sandbox_template
from tests.unit.policies_support import Chat, people_rows, persona
from tests.unit.records_support import (
    button,
    buttons,
    file_bytes,
    last_with_buttons,
    medical_to,
    pdf_text,
)

__all__ = ["chat_for", "clock", "sandbox_template"]

KEYS = AppKeys(TEST_KEY)
MENU = "🩺 Медкарта"

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


@pytest.fixture
def backend_timeout() -> float:
    """Generous by default: a busy test machine must not look like a slow backend."""
    return 5.0


@pytest.fixture
def settings(clean_env: None, tmp_path: Path, backend_timeout: float) -> Settings:
    return unthrottled(
        sqlite_settings(tmp_path, backend={"backend_timeout_seconds": backend_timeout})
    )


@pytest.fixture
async def sandbox(
    sandbox_template: Path,
    tmp_path: Path,
    clock: FrozenClock,
) -> AsyncIterator[SandboxBackend]:
    async with open_sandbox(sandbox_template, tmp_path, clock) as backend:
        yield backend


class Switchable:
    """The sandbox, or (when switched) a backend that is slow or down."""

    def __init__(self, inner: SandboxBackend) -> None:
        self.inner = inner
        self.mode = "ok"

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if self.mode == "ok" or not callable(target):
            return target

        async def broken(*args: Any, **kwargs: Any) -> Any:
            if self.mode == "slow":
                await asyncio.sleep(30)
            raise BackendUnavailable("down in tests")

        return broken


@pytest.fixture
def switch(sandbox: SandboxBackend) -> Switchable:
    return Switchable(sandbox)


@pytest.fixture
def backend(switch: Switchable) -> RecordsBackend:
    return cast(RecordsBackend, switch)


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: RecordsBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=clock)


async def page_count(sandbox: SandboxBackend, grant: str, requester: str, section: Section) -> int:
    """How many pages the bot shows of the whole section (all time)."""
    total = (await sandbox.list_entries(grant, requester, section, limit=1)).total
    return -(-total // PAGE_SIZE)


async def own_grant(sandbox: SandboxBackend, telegram_id: int) -> tuple[str, str]:
    """(grant id, requester id) of the user's own card, as the backend knows them."""
    requester = requester_id_for(KEYS, telegram_id)
    grants = await sandbox.list_grants_received(requester)
    return grants[0].grant_id, requester


# --- browsing my own card -------------------------------------------------------------------


async def test_own_card_sections_paging_filter_and_a_lab_document(
    chat_for, sandbox: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(sandbox, "elderly_mother")
    me: Chat = await chat_for(4101, "Галина")
    await me.link_own(sandbox, galina)

    await me.text(MENU)
    home = last_with_buttons(me.rec, 4101)
    assert "Медкарта" in home.text and home.protect_content is True
    names = [text for text, _ in buttons(home)]
    for section in ("Осмотры", "Анализы", "Исследования", "Выписки", "Прививки", "Рецепты"):
        assert any(section in name for name in names), section

    # How many lab results there are depends on the day the sandbox was seeded (yearly check-ups
    # of this year may not have happened yet): ask it.
    pages = await page_count(sandbox, *await own_grant(sandbox, 4101), Section.LABS)
    assert pages >= 2
    await me.press(button(home, "🧪"))
    first = last_with_buttons(me.rec, 4101)
    assert "Анализы" in first.text and f"страница 1 из {pages}" in first.text
    entries = [d for _, d in buttons(first) if d.startswith("rd:")]
    assert len(entries) == PAGE_SIZE
    await me.press(button(first, "Раньше"))
    second = me.last_request("editMessageText")
    assert f"страница 2 из {pages}" in second.text
    await me.press(button(second, "◀️ Позже"))
    assert f"страница 1 из {pages}" in me.last_request("editMessageText").text
    # The period filter: the last 3 months, then everything again.
    await me.press(button(second, "3 месяца"))
    assert "Период: 3 месяца" in me.last_request("editMessageText").text

    await me.press(entries[0])
    document = medical_to(me.rec, 4101)[-1]
    assert "Анализы · " in document.text and "Врач:" in document.text
    assert "Медорганизация:" in document.text and "норма" in document.text
    assert button(document, "📄 Скачать PDF").startswith("rd:p:")


async def test_empty_section_says_so(chat_for, sandbox: SandboxBackend) -> None:
    me: Chat = await chat_for(4102, "Анна")
    await me.link_own(sandbox, await persona(sandbox, "mother"))
    await me.text(MENU)
    await me.press(button(last_with_buttons(me.rec, 4102), "🏥"))
    assert "В этом разделе пока нет документов" in me.said()


async def test_lab_table_marks_trend_chart_pdf_and_journal(
    chat_for, sandbox: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(sandbox, "elderly_mother")
    me: Chat = await chat_for(4103, "Галина")
    await me.link_own(sandbox, galina)
    person = (await people_rows(sessionmaker, 4103))[0].id
    grant, requester = await own_grant(sandbox, 4103)
    history = await sandbox.analyte_history(grant, requester, "HBA1C")
    entry = history.points[-1].entry_id

    await me.press(RecDocCb(a=DocAction.OPEN, p=person, e=entry).pack())
    document = medical_to(me.rec, 4103)[-1]
    assert "HbA1c" in document.text and "↑" in document.text and "норма" in document.text
    trend = button(document, "📈 Динамика: Гликированный")

    await me.press(trend)
    photo = me.last_request("sendPhoto")
    assert photo.protect_content is True and png_size(file_bytes(photo)) == (1080, 720)

    await me.press(button(document, "📄 Скачать PDF"))
    pdf = me.last_request("sendDocument")
    # A file to keep (issue 14): saveable, not protected; the chart above stays protected.
    assert not pdf.protect_content and "HbA1c" in pdf_text(file_bytes(pdf))

    await me.text(MENU)
    await me.press(button(last_with_buttons(me.rec, 4103), "👁"))
    journal = me.said()
    assert "Кто смотрел мою медкарту" in journal and "Вы: открыли документ" in journal
    async with sessionmaker() as db:
        actions = [v.action for v in await db.scalars(select(RecordView))]
    assert {"document", "chart", "pdf"} <= set(actions)


async def test_export_sends_one_pdf_with_contents(
    chat_for, sandbox: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    me: Chat = await chat_for(4104, "Анна")
    await me.link_own(sandbox, await persona(sandbox, "mother"))
    await me.text(MENU)
    await me.press(button(last_with_buttons(me.rec, 4104), "📄"))
    await me.press(button(last_with_buttons(me.rec, 4104), "Всё"))
    export = me.last_request("sendDocument")
    text = pdf_text(file_bytes(export))
    assert not export.protect_content and "Содержание" in text and "Анализы" in text


async def test_export_says_it_is_preparing_first_and_then_takes_the_time_it_needs(
    chat_for, sandbox: SandboxBackend, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow records service: every call takes 1.5 s. Dozens of calls are far past one
    # update's 4 s backend budget, but the user was told "Preparing the PDF…" before the
    # first of them, and each answer that comes keeps the export going.
    me: Chat = await chat_for(4105, "Анна")
    await me.link_own(sandbox, await persona(sandbox, "mother"))
    await me.text(MENU)
    await me.press(button(last_with_buttons(me.rec, 4105), "📄"))
    told_before_fetching: list[bool] = []
    real_list, real_get = sandbox.list_entries, sandbox.get_document

    async def slow_list(*args: Any, **kwargs: Any) -> Any:
        told_before_fetching.append("Готовим PDF…" in me.alerts())
        clock.advance(seconds=1.5)
        return await real_list(*args, **kwargs)

    async def slow_get(*args: Any, **kwargs: Any) -> Any:
        clock.advance(seconds=1.5)
        return await real_get(*args, **kwargs)

    monkeypatch.setattr(sandbox, "list_entries", slow_list)
    monkeypatch.setattr(sandbox, "get_document", slow_get)
    await me.press(button(last_with_buttons(me.rec, 4105), "Всё"))
    assert told_before_fetching and all(told_before_fetching)
    export = me.last_request("sendDocument")
    assert "Содержание" in pdf_text(file_bytes(export))


async def test_export_of_an_empty_period_says_so_in_the_chat(
    chat_for, sandbox: SandboxBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    me: Chat = await chat_for(4106, "Анна")
    await me.link_own(sandbox, await persona(sandbox, "mother"))
    await me.text(MENU)
    await me.press(button(last_with_buttons(me.rec, 4106), "📄"))
    real_list = sandbox.list_entries

    async def nothing(*args: Any, **kwargs: Any) -> Any:
        page = await real_list(*args, **kwargs)
        return page.model_copy(update={"items": [], "next_cursor": None})

    monkeypatch.setattr(sandbox, "list_entries", nothing)
    await me.press(button(last_with_buttons(me.rec, 4106), "Всё"))
    assert "За этот период документов нет" in me.said()
    assert not me.rec.sent("sendDocument")


# --- whose card and refusals ----------------------------------------------------------------


async def test_for_whom_first_then_remembered(
    chat_for, sandbox: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    me: Chat = await chat_for(4105, "Анна")
    await me.link_own(sandbox, await persona(sandbox, "mother"))
    await me.link_relative(sandbox, await persona(sandbox, "elderly_mother"), label="Мама")
    await me.text(MENU)
    picker = last_with_buttons(me.rec, 4105)
    assert "Чью медкарту" in picker.text
    await me.press(button(picker, "Мама"))
    assert "Мама" in me.said()
    await me.text(MENU)  # the choice is remembered in this conversation
    assert "Медкарта</b> — Мама" in me.said()


async def test_appointments_only_relative_cannot_see_the_record(
    chat_for, sandbox: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    me: Chat = await chat_for(4106, "Алексей")
    father = await persona(sandbox, "elderly_father")
    await me.link_relative(sandbox, father, label="Папа", scope=ScopeChoice.APPOINTMENTS)
    sent_before = len(me.rec.requests)
    await me.text(MENU)
    assert "только запись к врачу" in me.said()
    person = (await people_rows(sessionmaker, 4106))[0].id
    await me.press(RecListCb(p=person, s=Section.LABS, f=Period.ALL, n=0).pack())
    assert "только запись к врачу" in me.alerts()[-1]
    assert medical_to(me.rec, 4106, since=sent_before) == []


async def test_revoked_grant_makes_old_buttons_refuse(
    chat_for, sandbox: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    me: Chat = await chat_for(4107, "Анна")
    await me.link_relative(sandbox, await persona(sandbox, "elderly_mother"), label="Мама")
    await me.text(MENU)
    await me.press(button(last_with_buttons(me.rec, 4107), "🩺"))
    old_list = last_with_buttons(me.rec, 4107)
    row = (await people_rows(sessionmaker, 4107))[0]
    requester = Requester(id=requester_id_for(KEYS, 4107), display_name="Анна")
    await sandbox.revoke_grant(row.grant_id, requester)

    sent_before = len(me.rec.requests)
    await me.press(button(old_list, "Раньше"))
    await me.press(next(d for _, d in buttons(old_list) if d.startswith("rd:")))
    revoked, gone = me.alerts()[-2:]
    assert "отозван" in revoked  # the first old button finds the grant revoked ...
    assert "нет в вашем списке" in gone  # ... and the person is gone from My people after it
    assert medical_to(me.rec, 4107, since=sent_before) == []


async def test_forged_buttons_leak_nothing(
    chat_for, sandbox: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    anna: Chat = await chat_for(4108, "Анна")
    await anna.link_own(sandbox, await persona(sandbox, "mother"))
    await anna.link_relative(sandbox, await persona(sandbox, "elderly_mother"), label="Мама")
    victims = [r.id for r in await people_rows(sessionmaker, 4108)]
    foreign_entries: list[str] = []
    for grant in await sandbox.list_grants_received(requester_id_for(KEYS, 4108)):
        for section in Section:
            page = await sandbox.list_entries(
                grant.grant_id, requester_id_for(KEYS, 4108), section, limit=1
            )
            foreign_entries += [item.entry_id for item in page.items]

    eve: Chat = await chat_for(4109, "Ева")
    await eve.link_own(sandbox, await persona(sandbox, "single"))
    own = (await people_rows(sessionmaker, 4109))[0].id
    rng = random.Random(4109)
    forged = []
    for person in [*victims, 0, -1, 10**9]:
        forged.append(RecListCb(p=person, s=rng.choice(list(Section)), f=Period.ALL, n=0).pack())
        forged.append(RecTrendCb(p=person, c="HBA1C").pack())
    # Her own (valid) person id with other patients' entry ids.
    for person in [*victims, own]:
        forged += [RecDocCb(a=a, p=person, e=e).pack() for e in foreign_entries for a in DocAction]
    alphabet = string.ascii_letters + string.digits + ":-_"
    for _ in range(40):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        forged.append(rng.choice(["rd:o:", "rd:p:", "rl:", "rt:", "rx:", "rj:", "rh:", ""]) + junk)

    sent_before = len(eve.rec.requests)
    for data in forged:
        await eve.press(data[:64])
    answered = eve.rec.sent("answerCallbackQuery")
    assert len(answered) >= len(forged)  # every press got an answer
    assert medical_to(eve.rec, 4109, since=sent_before) == []
    assert not [
        r
        for r in eve.rec.requests[sent_before:]
        if r.__api_method__ in {"sendDocument", "sendPhoto", "editMessageText"}
    ]


@pytest.mark.parametrize("backend_timeout", [0.5])
async def test_backend_slow_or_down_is_told_quickly_and_the_menu_still_works(
    chat_for, sandbox: SandboxBackend, switch: Switchable, sessionmaker: SessionMaker
) -> None:
    me: Chat = await chat_for(4110, "Анна")
    await me.link_own(sandbox, await persona(sandbox, "mother"))
    person = (await people_rows(sessionmaker, 4110))[0].id
    for mode in ("slow", "down"):
        switch.mode = mode
        started = time.monotonic()
        await me.press(RecListCb(p=person, s=Section.LABS, f=Period.ALL, n=0).pack())
        assert time.monotonic() - started < 3
        assert "временно недоступ" in me.alerts()[-1]
    switch.mode = "ok"
    await me.text(MENU)
    assert "Медкарта" in me.said()


async def test_owner_sees_who_viewed_the_card_but_not_the_viewers_label(
    chat_for, sandbox: SandboxBackend, sessionmaker: SessionMaker
) -> None:
    galina = await persona(sandbox, "elderly_mother")
    owner: Chat = await chat_for(4111, "Галина")
    await owner.link_own(sandbox, galina)
    daughter: Chat = await chat_for(4112, "Анна")
    await daughter.link_relative(sandbox, galina, label="Мамуля")
    await daughter.text(MENU)
    await daughter.press(button(last_with_buttons(daughter.rec, 4112), "🩺"))
    await daughter.press(
        next(d for _, d in buttons(last_with_buttons(daughter.rec, 4112)) if d.startswith("rd:"))
    )

    await owner.text(MENU)
    await owner.press(button(last_with_buttons(owner.rec, 4111), "👁"))
    journal = owner.said()
    assert "Человек, которому вы дали доступ: открыли документ" in journal
    assert "Мамуля" not in journal  # the viewer's own name for the owner stays theirs
    assert "По данным ЕМИАС" in journal and "смотрели документ" in journal

    # The daughter's views go with her data when she asks the bot to forget her.
    async with sessionmaker() as db:
        viewer = await db.scalar(select(User).where(User.telegram_id == 4112))
        assert viewer is not None
        assert await db.scalar(select(RecordView).where(RecordView.user_id == viewer.id))
        await privacy.forget_user(db, viewer, TEST_NOW)
        await db.commit()
    async with sessionmaker() as db:
        assert await db.scalar(select(RecordView).where(RecordView.user_id == viewer.id)) is None
