"""``ENDPOINTS``: every operation of the Records API, in the order ``openapi.yaml`` lists them."""

from __future__ import annotations

from typing import Any

from backend_client.records_api.spec import Endpoint
from backend_client.records_api.spec_access import (
    ACCESS_LOG,
    CONFIRM_ACCESS,
    FIND_PATIENT,
    GET_GRANT,
    LINK_CHILD,
    LIST_GRANTS_GIVEN,
    LIST_GRANTS_RECEIVED,
    REQUEST_ACCESS,
    RESEND_CODE,
    REVOKE_GRANT,
)
from backend_client.records_api.spec_appointments import (
    BOOK,
    CANCEL_APPOINTMENT,
    FREE_SLOTS,
    GET_APPOINTMENT,
    LIST_APPOINTMENTS,
    LIST_DOCTORS,
    LIST_REFERRALS,
    LIST_SPECIALTIES,
    RESCHEDULE,
    SEARCH_FREE_SLOTS,
)
from backend_client.records_api.spec_record import (
    ANALYTE_HISTORY,
    GET_DOCUMENT,
    GET_DOCUMENT_PDF,
    HEALTH,
    LIST_ENTRIES,
    READ_EVENTS,
)

ENDPOINTS: tuple[Endpoint[Any, Any], ...] = (
    FIND_PATIENT,
    REQUEST_ACCESS,
    RESEND_CODE,
    CONFIRM_ACCESS,
    LINK_CHILD,
    GET_GRANT,
    LIST_GRANTS_RECEIVED,
    LIST_GRANTS_GIVEN,
    REVOKE_GRANT,
    ACCESS_LOG,
    LIST_ENTRIES,
    GET_DOCUMENT,
    GET_DOCUMENT_PDF,
    ANALYTE_HISTORY,
    LIST_SPECIALTIES,
    LIST_REFERRALS,
    LIST_DOCTORS,
    FREE_SLOTS,
    SEARCH_FREE_SLOTS,
    BOOK,
    RESCHEDULE,
    CANCEL_APPOINTMENT,
    LIST_APPOINTMENTS,
    GET_APPOINTMENT,
    READ_EVENTS,
    HEALTH,
)
