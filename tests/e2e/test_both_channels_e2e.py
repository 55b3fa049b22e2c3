"""The scenarios a person goes through, written once and run on both messengers: Telegram
(the Telegram emulator and the aiogram bot) and MAX (the MAX emulator and the maxapi front
end), on the same sandbox, through the same flows (`bot.flows`)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend_client.models import AppointmentStatus
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.appointments_models import SlotWatch
from bot.services.records.chart import png_size
from bot.settings import Settings
from max_channel.offline import offline_max_stack
from tests.e2e.booking import book_a_visit, tap, tap_on
from tests.e2e.channels import Channel, MaxChannel, Person, channel_stack, consented
from tests.e2e.worker import Worker, at_noon_in_moscow
from tests.sandbox_fixtures import code_sent_to, persona

pytestmark = pytest.mark.e2e


async def link_own_card(person: Person, sandbox: SandboxBackend, key: str) -> None:
    me = await persona(sandbox, key)
    await person.press("👨‍👩‍👧 My people")
    await person.press("➕ My own policy")
    await person.press("📱 Share my phone number")
    await person.send_text(me.policy)
    await person.send_text(f"{me.birth_date:%d.%m.%Y}")
    await person.send_text(await code_sent_to(sandbox, me.phone))


async def link_mum(person: Person, sandbox: SandboxBackend, scope: str) -> None:
    """Mother's card as "Mum", with the code she relays from her SMS (`scope`: the button)."""
    mother = await persona(sandbox, "elderly_mother")
    await person.press("👨‍👩‍👧 My people")
    await person.press("➕ A relative's policy")
    if "📱 Share my phone number" in person.buttons():
        await person.press("📱 Share my phone number")
    await person.send_text("Mum")
    await person.send_text(mother.policy)
    await person.send_text(f"{mother.birth_date:%d.%m.%Y}")
    await person.press(scope)
    await person.press("6 months")
    await person.send_text(await code_sent_to(sandbox, mother.phone))


async def test_linking_my_own_card_and_reading_my_record(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    me = await persona(sandbox, "elderly_mother")
    person = await consented(channel, 6001, "Галина", me.phone)
    await link_own_card(person, sandbox, "elderly_mother")
    assert "your medical card is linked" in person.last_text
    await person.press("🩺 Medical record")
    assert "Medical record</b>" in person.last_text or "Medical record —" in person.last_text
    await person.press("🧪 Lab results")
    assert "page 1 of" in person.last_text
    await person.press("⬅️ Sections")
    await person.press("👁 Who viewed my card")
    assert "You: opened the list" in person.last_text


async def test_a_relatives_card_with_the_code_the_owner_relays(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    daughter = await persona(sandbox, "mother")
    person = await consented(channel, 6002, "Анна", daughter.phone)
    await link_mum(person, sandbox, "Appointments and the medical record")
    assert "Mum is now in My people" in person.last_text
    await person.press("👨‍👩‍👧 My people")
    assert "Mum" in person.last_text


async def test_a_wrong_birth_date_and_a_policy_typed_at_the_wrong_step(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    me = await persona(sandbox, "single")
    person = await consented(channel, 6003, "Иван", me.phone)
    await person.press("👨‍👩‍👧 My people")
    await person.press("➕ My own policy")
    await person.press("📱 Share my phone number")
    await person.send_text("not a policy")
    assert "may contain only digits" in person.last_text
    await person.send_text(me.policy)
    await person.send_text("31.02.1990")  # no such date
    assert "There is no such date" in person.last_text
    await person.send_text("/cancel")
    assert "Cancelled." in person.last_text


async def test_book_reschedule_and_cancel_a_visit(
    channel: Channel, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    me = await persona(sandbox, "single")
    person = await consented(channel, 6004, "Олег", me.phone)
    await link_own_card(person, sandbox, "single")
    visit_id = await book_a_visit(person, sandbox, sandbox_clock, me.policy)
    assert any("Appointment booked" in text for text in person.texts()[-3:])
    await person.press("🗓 My appointments")
    assert "Upcoming:" in person.last_text
    await tap_on(person, "av:v:", visit_id)
    await person.press("🔁 Reschedule")
    await tap(person, "cal:d:")
    await tap(person, "at:")
    assert "Move the appointment?" in person.last_text
    await tap(person, "ab:ok:")
    [moved] = [v for v in await sandbox.appointments_of(me.policy) if v.appointment_id == visit_id]
    assert moved.previous_starts_at is not None and moved.status is AppointmentStatus.BOOKED
    await person.press("🗓 My appointments")
    await tap_on(person, "av:v:", visit_id)
    await person.press("❌ Cancel the appointment")
    assert "Cancel this appointment?" in person.last_text
    await person.press("Yes, cancel it")
    assert "The appointment is cancelled" in person.last_text
    [gone] = [v for v in await sandbox.appointments_of(me.policy) if v.appointment_id == visit_id]
    assert gone.status is AppointmentStatus.CANCELLED


async def test_a_result_ready_notification_opens_the_result(
    channel: Channel, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    """The worker delivers to the messenger the person uses; its button opens the result
    through the same flow and access check as any press."""
    at_noon_in_moscow(channel, sandbox_clock)
    me = await persona(sandbox, "single")
    person = await consented(channel, 6005, "Олег", me.phone)
    await link_own_card(person, sandbox, "single")
    worker = Worker(channel)
    await worker.feed()  # the feed's start: what came before linking is not news
    await sandbox.publish_result(patient_id=me.patient_id, panel="cbc")
    stats = await worker.round()
    assert stats.sent == 1
    assert "A new lab result is ready" in person.last_text
    await tap(person, "rd:o:")
    assert "Общий (клинический) анализ крови" in person.last_text and "normal" in person.last_text


async def test_a_trend_chart_and_pdfs_of_the_record(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    me = await persona(sandbox, "elderly_mother")
    person = await consented(channel, 6006, "Галина", me.phone)
    await link_own_card(person, sandbox, "elderly_mother")
    await person.press("🩺 Medical record")
    await person.press("🧪 Lab results")
    await tap_on(person, "rd:o:", "")  # the newest lab document
    assert "normal" in person.last_text
    trend = next(b for b in person.buttons() if b.startswith("📈 Trend"))
    await person.press(trend)
    chart = person.files()[-1]
    assert png_size(chart) == (1080, 720)
    await person.press("📄 PDF")
    assert person.files()[-1].startswith(b"%PDF")
    await person.press("⬅️ Sections")
    await person.press("📄 Export as PDF")
    await person.press("All")
    export = person.files()[-1]
    assert export.startswith(b"%PDF") and len(export) > len(person.files()[-2])


async def test_the_owner_on_telegram_is_told_when_a_relative_on_max_gets_access(
    e2e_settings: Settings, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    """One database, two messengers: the card's owner uses Telegram, her daughter MAX. The
    owner's alert reaches her on Telegram, and its revoke button works there."""
    mother = await persona(sandbox, "elderly_mother")
    daughter = await persona(sandbox, "mother")
    async with channel_stack("telegram", e2e_settings, sandbox, sandbox_clock) as telegram:
        owner = await consented(telegram, 6101, "Галина", mother.phone)
        await link_own_card(owner, sandbox, "elderly_mother")
        tg_bot = telegram.app.bot
        sandbox_clock.advance(minutes=2)  # past the pause between two codes to one phone
        async with offline_max_stack(
            e2e_settings, backend=sandbox, clock=sandbox_clock, telegram_bot=tg_bot
        ) as max_stack:
            relative = await consented(MaxChannel(max_stack), 6102, "Анна", daughter.phone)
            await link_mum(relative, sandbox, "Appointments only")
            assert "Mum is now in My people" in relative.last_text
        alert = owner.last_text
        assert "Someone got access to your medical card" in alert and "Анна" in alert
        revoke = [b for b in owner.buttons() if b.startswith("❌ Revoke")]
        assert revoke == ["❌ Revoke: Пользователь MAX «Анна» (имя не проверено)"]
        await owner.press(revoke[0])
        await owner.press("Yes, revoke")
        assert "revoked" in owner.last_text.lower()


async def test_a_childs_card_and_the_childs_vaccinations(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    mother = await persona(sandbox, "mother")
    child = await persona(sandbox, "child")
    person = await consented(channel, 6007, "Анна", mother.phone)
    await link_own_card(person, sandbox, "mother")
    await person.press("👨‍👩‍👧 My people")
    await person.press("➕ A child under 15")
    await person.send_text("Son")
    await person.send_text(child.policy)
    await person.send_text(f"{child.birth_date:%d.%m.%Y}")
    assert "Son is now in My people" in person.last_text  # no code: the parent's own right
    await person.press("🩺 Medical record")
    assert "Whose medical record?" in person.last_text
    await person.press("Son")
    await person.press("💉 Vaccinations")
    assert "page 1 of" in person.last_text


async def test_my_data_names_the_messenger_and_forgetting_deletes_everything(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    me = await persona(sandbox, "single")
    person = await consented(channel, 6008, "Олег", me.phone)
    await link_own_card(person, sandbox, "single")
    await person.press("🔒 Privacy")
    messenger = "MAX" if channel.name == "max" else "Telegram"
    assert f"• {messenger} id and language" in person.last_text
    assert "linked people: 1" in person.last_text
    await person.press("Delete my data")
    await person.press("Yes, delete")
    assert any("has been deleted" in text for text in person.texts()[-2:])
    assert "☰ Menu" not in person.buttons()  # nothing to open without consent
    await person.send_text("hello")
    # A stranger again, in the language the messenger reports (MAX's emulator user: none).
    assert person.last_text in ("Send /start to begin.", "Чтобы начать, отправьте /start.")


async def test_a_slot_watch_tells_of_a_freed_slot_and_books_it(
    channel: Channel, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    at_noon_in_moscow(channel, sandbox_clock)
    me = await persona(sandbox, "single")
    person = await consented(channel, 6009, "Олег", me.phone)
    await link_own_card(person, sandbox, "single")
    worker = Worker(channel)
    await worker.watches()  # finds the end of the event feed
    await person.press("📅 Book a doctor")
    await tap(person, "ap:s:")
    await tap(person, "ap:d:")
    await tap(person, "ab:w")
    for step in ("ws:t:doc", "ws:r:14", "ws:h:any", "ws:d:all", "ws:m:tell"):
        await tap(person, step)
    assert "Watching." in person.last_text
    async with channel.app.sessionmaker() as db:
        doctor_id = (await db.scalars(select(SlotWatch))).one().doctor_id
    assert doctor_id is not None
    taken = await sandbox.taken_slots(doctor_id, 50)
    await sandbox.free_slot(taken[0])
    assert (await worker.watches()).hits == 1
    assert (await worker.deliver()).sent == 1
    assert "🔔 A free slot for" in person.last_text and "has appeared" in person.last_text
    before = {v.appointment_id for v in await sandbox.appointments_of(me.policy)}
    await person.press("Book it")
    await person.press("✅ Confirm")
    assert any("Appointment booked" in text for text in person.texts()[-3:])
    after = {v.appointment_id for v in await sandbox.appointments_of(me.policy)}
    assert len(after - before) == 1


async def owner_and_relative(
    channel: Channel, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> tuple[Person, Person, Worker]:
    """Галина uses the bot with her own card; her daughter Анна links it as "Mum" with the
    code Галина relays (the worker has read the feed's start first)."""
    at_noon_in_moscow(channel, sandbox_clock)
    mother = await persona(sandbox, "elderly_mother")
    daughter = await persona(sandbox, "mother")
    owner = await consented(channel, 6010, "Галина", mother.phone)
    await link_own_card(owner, sandbox, "elderly_mother")
    worker = Worker(channel)
    await worker.feed()  # the feed's start
    sandbox_clock.advance(minutes=2)  # past the pause between two codes to one phone
    relative = await consented(channel, 6011, "Анна", daughter.phone)
    await link_own_card(relative, sandbox, "mother")
    sandbox_clock.advance(minutes=2)
    await link_mum(relative, sandbox, "Appointments and the medical record")
    assert "Mum is now in My people" in relative.last_text
    return owner, relative, worker


async def test_a_relative_is_told_at_once_when_the_owner_revokes_their_access(
    channel: Channel, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    """Issue 14, 10: the revoked person learned it only at their next tap, and "for whom"
    still offered the card. Now the card is gone from their lists at once and the worker
    tells them (from the backend's event: a revocation on the portal is told the same way)."""
    owner, relative, worker = await owner_and_relative(channel, sandbox, sandbox_clock)
    revoke = [b for b in owner.buttons() if b.startswith("❌ Revoke")]
    await owner.press(revoke[0])
    await owner.press("Yes, revoke")
    await relative.press("🩺 Medical record")  # no "whose record?": Mum is not offered
    assert "Mum" not in relative.last_text and "Medical record" in relative.last_text
    assert (await worker.round()).sent == 1
    assert "Your access to the card «Mum» has ended" in relative.last_text
    await relative.press("👨‍👩‍👧 My people")
    assert "Mum" not in relative.last_text


async def test_free_words_start_booking_or_bring_help(
    channel: Channel, sandbox: SandboxBackend
) -> None:
    """Issue 14, 7: «хочу к окулисту на завтра» and «помогите» got the same «Не понял вас»."""
    me = await persona(sandbox, "single")
    person = await consented(channel, 6012, "Олег", me.phone)
    await link_own_card(person, sandbox, "single")
    await person.send_text("хочу к окулисту на завтра")
    assert "Choose a doctor and a clinic" in person.last_text  # the specialty list skipped
    doctors = person.with_button("ap:d:")[1]
    catalog = sandbox._catalog.doctors.values()
    ophthalmologists = {d.doctor_id for d in catalog if d.specialty.code == "ophthalmologist"}
    assert doctors and {data.split(":")[2] for data in doctors} <= ophthalmologists
    await person.send_text("помогите не могу войти")
    assert "If something does not work" in person.last_text
    await person.send_text("спасибо")
    assert "I did not understand that" in person.last_text
    await person.send_file(b"%PDF-1.4 a scan of a paper referral", "referral.pdf")
    assert person.last_text.startswith("I cannot listen to voice messages")


async def test_the_owner_is_told_when_a_relative_books_and_cancels_for_them(
    channel: Channel, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    """Issue 14, 10: the owner was not told when a relative booked, moved or cancelled."""
    owner, relative, _ = await owner_and_relative(channel, sandbox, sandbox_clock)
    mother = await persona(sandbox, "elderly_mother")
    await book_a_visit(relative, sandbox, sandbox_clock, mother.policy, who=1)
    assert owner.last_text.startswith("ℹ️") and "booked a visit for you" in owner.last_text
    assert "Анна" in owner.last_text
