"""Domain models exchanged with the records backend.

Frozen pydantic v2 models: immutable, typed, and JSON-serialisable both ways
(``m.model_dump(mode="json")`` / ``Model.model_validate(data)``), which is what an HTTP adapter
needs. These are domain terms of the EMK/appointment system, not FHIR or HTTP shapes.

Conventions: every ``datetime`` is timezone-aware UTC; ``date`` values are calendar dates in
Moscow time; ids are opaque strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _aware_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC)


# --- identity and access ------------------------------------------------------------------------


class Scope(StrEnum):
    """What a grant allows. ``RECORDS`` implies ``APPOINTMENTS``."""

    APPOINTMENTS = "appointments"
    RECORDS = "appointments+records"

    def allows(self, needed: Scope) -> bool:
        return self is Scope.RECORDS or needed is Scope.APPOINTMENTS


class Relation(StrEnum):
    """How the requester relates to the card owner."""

    SELF = "self"
    RELATIVE = "relative"
    CHILD = "child"


class Requester(_Model):
    """The person acting through the bot."""

    id: str
    """Opaque pseudonymous id from the front end, e.g. ``"tg-3fa9..."``; never a raw Telegram id."""
    display_name: str
    """How the owner's SMS names them, e.g. ``"Иван П."``."""


class PatientRef(_Model):
    """Minimal, non-medical description of a patient (safe to show after a policy match)."""

    patient_id: str
    display_name: str
    """Short form: first name + surname initial, ``"Анна И."``."""
    birth_date: date
    age: int
    """Full years at the backend's "now"."""


class Challenge(_Model):
    """A pending SMS-code confirmation of an access request."""

    challenge_id: str
    patient_id: str
    patient: PatientRef
    relation: Relation
    scope: Scope
    access_expires_at: datetime | None
    """When the grant to be created would expire (``None`` = until revoked)."""
    phone_masked: str
    """The owner's phone as the SMS went to it, e.g. ``"+7 *** ***-45-12"``."""
    expires_at: datetime
    """The code stops working at this moment."""
    resend_available_at: datetime
    attempts_left: int

    utc_fields = field_validator("access_expires_at", "expires_at", "resend_available_at")(
        _aware_utc
    )


class Grant(_Model):
    """The right of one requester to act on one patient's card."""

    grant_id: str
    patient: PatientRef
    requester_id: str
    requester_name: str
    relation: Relation
    scope: Scope
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    utc_fields = field_validator("created_at", "expires_at", "revoked_at")(_aware_utc)

    @property
    def patient_id(self) -> str:
        return self.patient.patient_id

    def is_active(self, now: datetime) -> bool:
        """Not revoked and not expired at ``now`` (aware)."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or now < self.expires_at

    def allows(self, needed: Scope) -> bool:
        return self.scope.allows(needed)


class AccessAction(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"
    VIEWED_RECORDS = "viewed_records"
    VIEWED_DOCUMENT = "viewed_document"
    BOOKED = "booked"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


class AccessLogEntry(_Model):
    """One line of "who did what with my card" for the owner."""

    at: datetime
    requester_name: str
    relation: Relation
    action: AccessAction
    detail: str | None = None
    """Non-medical detail, e.g. a section name; never values or diagnoses."""


# --- the record ---------------------------------------------------------------------------------


class Section(StrEnum):
    PROTOCOLS = "protocols"
    """Visit protocols (осмотры)."""
    LABS = "labs"
    RADIOLOGY = "radiology"
    """КТ, МРТ, маммография, флюорография, рентген."""
    INSTRUMENTAL = "instrumental"
    """ЭКГ, УЗИ, эндоскопия."""
    DISCHARGES = "discharges"
    """Выписки из стационара."""
    VACCINATIONS = "vaccinations"
    PRESCRIPTIONS = "prescriptions"
    REFERRALS = "referrals"
    DISPENSARY = "dispensary"
    """Диспансеризация / профосмотры."""


class EntrySummary(_Model):
    entry_id: str
    section: Section
    title: str
    date: date
    doctor_name: str | None
    clinic_name: str | None
    has_abnormal: bool = False


class EntryPage(_Model):
    items: list[EntrySummary]
    next_cursor: str | None
    total: int
    """Number of entries matching the section and period (all pages)."""


class DocumentField(_Model):
    label: str
    """E.g. ``"Жалобы"``, ``"Диагноз"``, ``"Заключение"``."""
    value: str


class AnalyteFlag(StrEnum):
    LOW = "low"
    HIGH = "high"
    NORMAL = "normal"


class AnalyteResult(_Model):
    code: str
    """Stable analyte code used by ``analyte_history`` (e.g. ``"HBA1C"``, ``"GLU"``)."""
    name: str
    value: float | None = None
    text_value: str | None = None
    """For qualitative results ("отрицательно") or when ``value`` is None."""
    unit: str | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    flag: AnalyteFlag | None = None
    interpretation: str | None = None


class LabPanel(_Model):
    name: str
    """E.g. ``"Общий анализ крови"``."""
    results: list[AnalyteResult]


class Document(_Model):
    entry_id: str
    patient_id: str
    section: Section
    title: str
    date: date
    performed_at: datetime | None = None
    doctor_name: str | None = None
    doctor_specialty: str | None = None
    clinic_name: str | None = None
    fields: list[DocumentField] = []
    """Ordered: complaints, anamnesis, diagnosis (with ICD-10), recommendations, conclusion..."""
    text: str | None = None
    panels: list[LabPanel] = []
    has_abnormal: bool = False

    utc_fields = field_validator("performed_at")(_aware_utc)


class AnalytePoint(_Model):
    date: date
    value: float
    flag: AnalyteFlag | None
    entry_id: str


class AnalyteHistory(_Model):
    code: str
    name: str
    unit: str | None
    ref_low: float | None
    ref_high: float | None
    points: list[AnalytePoint]
    """Oldest first (ready to plot)."""


# --- appointments -------------------------------------------------------------------------------


class Specialty(_Model):
    code: str
    """Stable code, e.g. ``"therapist"``, ``"cardiologist"``."""
    name: str
    """Russian name, e.g. ``"Терапевт"``."""
    needs_referral: bool


class Clinic(_Model):
    clinic_id: str
    name: str
    address: str


class Doctor(_Model):
    doctor_id: str
    full_name: str
    specialty: Specialty
    clinic: Clinic
    cabinet: str | None = None
    district: bool = False
    """The patient's own attached doctor (участковый терапевт or педиатр), in `list_doctors`
    answers; patients expect that doctor first."""


class Referral(_Model):
    referral_id: str
    specialty: Specialty
    issued_at: date
    valid_until: date
    issued_by: str | None = None
    """Referring doctor's name."""
    clinic: Clinic | None = None
    """Where the referral may be used (``None`` = any clinic)."""
    diagnosis: str | None = None
    """Reason with ICD-10 code, shown only to those with the records scope."""
    entry_id: str | None = None
    """The matching document in the ``referrals`` section."""


class Slot(_Model):
    slot_id: str
    doctor_id: str
    starts_at: datetime
    duration_min: int
    clinic_id: str | None = None
    specialty_code: str | None = None

    utc_fields = field_validator("starts_at")(_aware_utc)


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CANCELLED_BY_CLINIC = "cancelled_by_clinic"
    MOVED = "moved"
    """Still valid, but the clinic changed its time (see ``previous_starts_at``)."""
    COMPLETED = "completed"


class Appointment(_Model):
    appointment_id: str
    patient_id: str
    doctor: Doctor
    slot_id: str
    starts_at: datetime
    duration_min: int
    status: AppointmentStatus
    referral_id: str | None = None
    previous_starts_at: datetime | None = None
    """Set when the visit was moved (by the patient or the clinic)."""

    utc_fields = field_validator("starts_at", "previous_starts_at")(_aware_utc)

    @property
    def is_active(self) -> bool:
        """Still going to happen (booked or moved by the clinic)."""
        return self.status in (AppointmentStatus.BOOKED, AppointmentStatus.MOVED)


# --- events -------------------------------------------------------------------------------------


class EventKind(StrEnum):
    RESULT_READY = "result_ready"
    APPOINTMENT_MOVED = "appointment_moved"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    """Cancelled by the clinic (patient-side cancels are not announced)."""
    SLOT_FREED = "slot_freed"
    ACCESS_GRANTED = "access_granted"
    """A new recipient got access to ``patient_id``'s card (tell the owner)."""
    ACCESS_REVOKED = "access_revoked"


class Event(_Model):
    event_id: str
    kind: EventKind
    occurred_at: datetime
    patient_id: str | None = None
    entry_id: str | None = None
    section: Section | None = None
    appointment_id: str | None = None
    slot: Slot | None = None
    doctor_id: str | None = None
    grant_id: str | None = None

    utc_fields = field_validator("occurred_at")(_aware_utc)


class EventBatch(_Model):
    events: list[Event]
    cursor: str | None
    """Pass as ``after`` to continue; unchanged (or ``None`` at the start) when nothing is new."""
