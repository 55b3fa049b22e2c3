"""``openapi.yaml`` is committed and must match the app: same routes, same schemas, every
protocol operation present with all its arguments."""

from __future__ import annotations

import inspect
from typing import cast

import yaml

from backend_client.protocol import RecordsBackend
from backend_client.records_api import create_records_api_app
from backend_client.records_api.openapi import OPENAPI_PATH, build_openapi, render_yaml
from backend_client.records_api.spec import HEADER_FIELDS
from backend_client.records_api.spec_endpoints import ENDPOINTS

# Protocol arguments that travel under another name (GETs flatten the requester).
RENAMED = {"owner_grant_id": "grant_id"}
# GET endpoints carry the requester by id only (no name in URLs).
FLATTENED_REQUESTER = {"requester_id"}


def committed() -> dict[str, object]:
    return cast(dict[str, object], yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8")))


def test_the_committed_document_is_up_to_date() -> None:
    # If this fails: python -m backend_client.records_api.openapi (and commit the result).
    assert committed() == build_openapi()
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render_yaml(build_openapi())


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    app = create_records_api_app(cast(RecordsBackend, object()), service_token="t")
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
    }
    paths = cast(dict[str, dict[str, object]], committed()["paths"])
    documented = {(method, path) for path, operations in paths.items() for method in operations}
    assert served == documented


def test_every_protocol_operation_has_an_endpoint_with_all_its_arguments() -> None:
    operations = {
        name
        for name, member in inspect.getmembers(RecordsBackend, inspect.isfunction)
        if not name.startswith("_") and name != "aclose"
    }
    by_op = {endpoint.op: endpoint for endpoint in ENDPOINTS}
    assert set(by_op) == operations
    for name, endpoint in by_op.items():
        parameters = set(inspect.signature(getattr(RecordsBackend, name)).parameters) - {"self"}
        expected = {RENAMED.get(p, p) for p in parameters}
        fields = set(endpoint.args.model_fields)
        if "requester" in expected and "requester" not in fields:
            expected = (expected - {"requester"}) | FLATTENED_REQUESTER
        assert fields == expected, name


def test_retry_safety_is_explicit() -> None:
    # Reads and keyed writes only; a change here is a decision, not an accident.
    unsafe = {endpoint.op for endpoint in ENDPOINTS if not endpoint.retry_safe}
    assert unsafe == {
        "request_access",
        "resend_code",
        "confirm_access",
        "link_child",
        "revoke_grant",
        "cancel_appointment",
    }
    for endpoint in ENDPOINTS:
        if endpoint.method == "POST" and endpoint.retry_safe and endpoint.op != "find_patient":
            assert set(HEADER_FIELDS) <= set(endpoint.args.model_fields), endpoint.op
