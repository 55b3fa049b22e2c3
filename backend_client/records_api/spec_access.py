"""The Records API's patient and access endpoints: look-up, SMS codes, grants, the access log.

See ``spec.py`` for how an ``Endpoint`` and its ``Args`` become a request.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import TypeAdapter

from backend_client.models import (
    AccessLogEntry,
    Challenge,
    Grant,
    PatientRef,
    Relation,
    Requester,
    Scope,
)
from backend_client.records_api.spec import ACCESS_ERRORS, Args, Endpoint

# GET endpoints identify the requester by id alone: a display name (personal data) has no
# place in a URL, where proxies and access logs would keep it.


class FindPatientArgs(Args):
    policy: str
    birth_date: date


class RequestAccessArgs(Args):
    policy: str
    birth_date: date
    requester: Requester
    relation: Relation
    scope: Scope
    expires_at: datetime | None = None


class ChallengeArgs(Args):
    challenge_id: str
    requester: Requester


class ConfirmAccessArgs(Args):
    challenge_id: str
    code: str
    requester: Requester


class LinkChildArgs(Args):
    parent_grant_id: str
    requester: Requester
    child_policy: str
    child_birth_date: date


class GrantRequesterArgs(Args):
    grant_id: str
    requester_id: str

    def requester(self) -> Requester:
        # Reads check the grant by requester id only; the name matters only in an SMS.
        return Requester(id=self.requester_id, display_name="")


class RequesterIdArgs(Args):
    requester_id: str


class RevokeGrantArgs(Args):
    grant_id: str
    requester: Requester


class AccessLogArgs(GrantRequesterArgs):
    limit: int = 50


FIND_PATIENT = Endpoint(
    "find_patient",
    "POST",  # a read, but POST keeps the policy number out of URLs (and so out of access logs)
    "/v1/patients/lookup",
    "Find a patient by policy (ЕНП) and birth date",
    FindPatientArgs,
    TypeAdapter(PatientRef),
    lambda b, a: b.find_patient(a.policy, a.birth_date),
    errors=("not_found", "lookup_locked"),
    retry_safe=True,
)
REQUEST_ACCESS = Endpoint(
    "request_access",
    "POST",
    "/v1/access-requests",
    "Start linking a card: send an SMS code to the card's phone",
    RequestAccessArgs,
    TypeAdapter(Challenge),
    lambda b, a: b.request_access(
        a.policy, a.birth_date, a.requester, a.relation, a.scope, a.expires_at
    ),
    errors=("not_found", "lookup_locked", "rate_limited", "grant_limit_reached"),
)
RESEND_CODE = Endpoint(
    "resend_code",
    "POST",
    "/v1/access-requests/{challenge_id}/resend",
    "Send a fresh code for the same request",
    ChallengeArgs,
    TypeAdapter(Challenge),
    lambda b, a: b.resend_code(a.challenge_id, a.requester),
    errors=("not_found", "rate_limited", "code_exhausted"),
)
CONFIRM_ACCESS = Endpoint(
    "confirm_access",
    "POST",
    "/v1/access-requests/{challenge_id}/confirm",
    "Check the SMS code and create the grant",
    ConfirmAccessArgs,
    TypeAdapter(Grant),
    lambda b, a: b.confirm_access(a.challenge_id, a.code, a.requester),
    errors=("not_found", "code_wrong", "code_expired", "code_exhausted", "grant_limit_reached"),
)
LINK_CHILD = Endpoint(
    "link_child",
    "POST",
    "/v1/grants/{parent_grant_id}/children",
    "Link a child under 15 through the parent's SELF grant",
    LinkChildArgs,
    TypeAdapter(Grant),
    lambda b, a: b.link_child(a.parent_grant_id, a.requester, a.child_policy, a.child_birth_date),
    errors=(*ACCESS_ERRORS, "lookup_locked"),
)
GET_GRANT = Endpoint(
    "get_grant",
    "GET",
    "/v1/grants/{grant_id}",
    "The requester's own active grant",
    GrantRequesterArgs,
    TypeAdapter(Grant),
    lambda b, a: b.get_grant(a.grant_id, a.requester()),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
LIST_GRANTS_RECEIVED = Endpoint(
    "list_grants_received",
    "GET",
    "/v1/requesters/{requester_id}/grants",
    "The requester's active grants",
    RequesterIdArgs,
    TypeAdapter(list[Grant]),
    lambda b, a: b.list_grants_received(a.requester_id),
    retry_safe=True,
)
LIST_GRANTS_GIVEN = Endpoint(
    "list_grants_given",
    "GET",
    "/v1/grants/{grant_id}/recipients",
    "Who has access to the owner's card (through the owner's SELF grant)",
    GrantRequesterArgs,
    TypeAdapter(list[Grant]),
    lambda b, a: b.list_grants_given(a.grant_id, a.requester()),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
REVOKE_GRANT = Endpoint(
    "revoke_grant",
    "POST",
    "/v1/grants/{grant_id}/revoke",
    "Revoke a grant (its grantee or the card owner)",
    RevokeGrantArgs,
    TypeAdapter(Grant),
    lambda b, a: b.revoke_grant(a.grant_id, a.requester),
    errors=ACCESS_ERRORS,
)
ACCESS_LOG = Endpoint(
    "access_log",
    "GET",
    "/v1/grants/{grant_id}/access-log",
    "Who did what with the owner's card, newest first",
    AccessLogArgs,
    TypeAdapter(list[AccessLogEntry]),
    lambda b, a: b.access_log(a.grant_id, a.requester(), limit=a.limit),
    errors=ACCESS_ERRORS,
    retry_safe=True,
)
