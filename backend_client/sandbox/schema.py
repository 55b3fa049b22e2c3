"""The sandbox's own SQLite schema (separate metadata from the bot's database).

SQLAlchemy Core tables: the sandbox mostly does bulk inserts and simple keyed queries, for which
Core is faster and shorter than the ORM. Timestamps are stored as integer UTC epoch seconds (cheap
to compare and index), calendar dates as ISO text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect


class UtcEpoch(TypeDecorator[datetime]):
    """Aware UTC datetime <-> integer epoch seconds."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the sandbox")
        return int(value.timestamp())

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(int(value), UTC)


metadata = MetaData()

meta = Table(
    "sandbox_meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

clinics = Table(
    "clinics",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("for_children", Boolean, nullable=False),
)

specialties = Table(
    "specialties",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("needs_referral", Boolean, nullable=False),
    Column("audience", String(8), nullable=False),  # adult / child / male / female / any
    Column("slot_min", Integer, nullable=False),
)

doctors = Table(
    "doctors",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("full_name", Text, nullable=False),
    Column("specialty_code", ForeignKey("specialties.code"), nullable=False),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),
    Column("cabinet", String(16)),
    Column("shift", String(16), nullable=False),  # schedule pattern, see catalog.SHIFTS
)

patients = Table(
    "patients",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("policy", String(16), nullable=False, unique=True),
    Column("birth_date", Date, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("first_name", Text, nullable=False),
    Column("middle_name", Text, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("phone", String(16), nullable=False),
    Column("clinic_id", ForeignKey("clinics.id"), nullable=False),  # attachment (прикрепление)
    Column("persona", String(32)),
)

family = Table(
    "family",
    metadata,
    Column("parent_id", ForeignKey("patients.id"), primary_key=True),
    Column("child_id", ForeignKey("patients.id"), primary_key=True),
)

entries = Table(
    "entries",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False),
    Column("section", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("date", Date, nullable=False),
    Column("performed_at", UtcEpoch),
    Column("doctor_name", Text),
    Column("doctor_specialty", Text),
    Column("clinic_name", Text),
    Column("has_abnormal", Boolean, nullable=False),
    Column("body", Text, nullable=False),  # JSON: fields, text, panels
    Index("ix_entries_page", "patient_id", "section", "date", "id"),
)

analyte_values = Table(
    "analyte_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False),
    Column("code", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("unit", Text),
    Column("ref_low", Float),
    Column("ref_high", Float),
    Column("value", Float, nullable=False),
    Column("flag", String(8)),
    Column("date", Date, nullable=False),
    Column("entry_id", ForeignKey("entries.id"), nullable=False),
    Index("ix_analyte_patient_code", "patient_id", "code", "date"),
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False),
    Column("specialty_code", ForeignKey("specialties.code"), nullable=False),
    Column("issued_at", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("issued_by", Text),
    Column("clinic_id", ForeignKey("clinics.id")),
    Column("diagnosis", Text),
    Column("entry_id", String(16)),
    Column("used_by", String(16)),  # appointment id once a visit was booked with it
    Index("ix_referrals_patient", "patient_id"),
)

slots = Table(
    "slots",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("doctor_id", ForeignKey("doctors.id"), nullable=False),
    Column("clinic_id", String(16), nullable=False),
    Column("specialty_code", String(32), nullable=False),
    Column("starts_at", UtcEpoch, nullable=False),
    Column("duration_min", Integer, nullable=False),
    # free / taken (by one of our appointments or by someone outside the sandbox) / blocked
    Column("state", String(8), nullable=False),
    Column("appointment_id", String(16)),
    Index("ix_slots_doctor", "doctor_id", "starts_at"),
    Index("ix_slots_specialty", "specialty_code", "starts_at"),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False),
    Column("doctor_id", ForeignKey("doctors.id"), nullable=False),
    Column("slot_id", String(24), nullable=False),
    Column("starts_at", UtcEpoch, nullable=False),
    Column("duration_min", Integer, nullable=False),
    Column("status", String(24), nullable=False),
    Column("referral_id", String(16)),
    Column("previous_starts_at", UtcEpoch),
    Column("created_at", UtcEpoch, nullable=False),
    Index("ix_appointments_patient", "patient_id", "starts_at"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("requester_id", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("operation", String(16), nullable=False),
    Column("target", String(24), nullable=False),  # the slot asked for
    Column("appointment_id", String(16), nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False),
    Column("requester_id", String(64), nullable=False),
    Column("requester_name", Text, nullable=False),
    Column("relation", String(16), nullable=False),
    Column("scope", String(24), nullable=False),
    Column("created_at", UtcEpoch, nullable=False),
    Column("expires_at", UtcEpoch),
    Column("revoked_at", UtcEpoch),
    Index("ix_grants_requester", "requester_id"),
    Index("ix_grants_patient", "patient_id"),
)

challenges = Table(
    "challenges",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("patient_id", ForeignKey("patients.id"), nullable=False),
    Column("requester_id", String(64), nullable=False),
    Column("requester_name", Text, nullable=False),
    Column("relation", String(16), nullable=False),
    Column("scope", String(24), nullable=False),
    Column("access_expires_at", UtcEpoch),
    Column("code_hash", String(64), nullable=False),  # HMAC-SHA256 hex, never the code
    Column("code_expires_at", UtcEpoch, nullable=False),
    Column("resend_available_at", UtcEpoch, nullable=False),
    Column("attempts_left", Integer, nullable=False),
    Column("state", String(8), nullable=False),  # pending / used / dead
    Column("created_at", UtcEpoch, nullable=False),
)

sms_sends = Table(
    "sms_sends",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String(16), nullable=False),
    Column("requester_id", String(64), nullable=False),
    Column("sent_at", UtcEpoch, nullable=False),
    Index("ix_sms_sends_patient", "patient_id", "sent_at"),
    Index("ix_sms_sends_requester", "requester_id", "sent_at"),
)

sms_outbox = Table(
    "sms_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("phone", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("sent_at", UtcEpoch, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),
    Column("occurred_at", UtcEpoch, nullable=False),
    Column("patient_id", String(16)),
    Column("entry_id", String(16)),
    Column("section", String(16)),
    Column("appointment_id", String(16)),
    Column("slot", Text),  # JSON of models.Slot
    Column("doctor_id", String(16)),
    Column("grant_id", String(24)),
    sqlite_autoincrement=True,  # ids never reused: the feed's cursor must stay monotonic
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String(16), nullable=False),
    Column("at", UtcEpoch, nullable=False),
    Column("requester_name", Text, nullable=False),
    Column("relation", String(16), nullable=False),
    Column("action", String(24), nullable=False),
    Column("detail", Text),
    Index("ix_access_log_patient", "patient_id", "at"),
)

__all__ = [
    "access_log",
    "analyte_values",
    "appointments",
    "challenges",
    "clinics",
    "doctors",
    "entries",
    "events",
    "family",
    "grants",
    "idempotency",
    "meta",
    "metadata",
    "patients",
    "referrals",
    "slots",
    "sms_outbox",
    "sms_sends",
    "specialties",
]
