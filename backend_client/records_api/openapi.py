"""Render ``openapi.yaml`` (OpenAPI 3.1) from ``spec_endpoints.ENDPOINTS`` and the pydantic models.

``python -m backend_client.records_api.openapi`` rewrites the committed file; ``--check`` exits
1 if it is stale (a test does the same). Only this dev tool needs PyYAML, never the service.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from backend_client.errors import AccessDenied
from backend_client.protocol import RecordsBackend
from backend_client.records_api.spec import (
    HEADER_FIELDS,
    STATUS_BY_CODE,
    UNAUTHORIZED,
    Endpoint,
)
from backend_client.records_api.spec_endpoints import ENDPOINTS

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
REF = "#/components/schemas/{model}"

DESCRIPTION = """\
The city's records / appointment backend as seen by the patient bot: every operation of
`backend_client.protocol.RecordsBackend`, one endpoint each. A real deployment implements this
document; `backend_client.http.HttpRecordsBackend` is its client and the sandbox serves it.

**Authentication.** Every request, `/v1/health` included, carries the service credential
`Authorization: Bearer <token>`; without it: `401 {"code": "unauthorized"}`.

**Requests.** GET endpoints take their inputs in the path and the query string, POST endpoints in
the path and a JSON object body. Unknown or repeated fields are rejected. Dates are ISO
`YYYY-MM-DD` calendar dates in Moscow time; datetimes are ISO 8601 with an offset (answers use
UTC). Ids are opaque strings (percent-encode them in paths). Policy numbers and SMS codes only
ever travel in bodies; query strings may carry requester display names, so neither bodies nor
query strings may be logged.

**Errors** are a JSON object `{"code", "message", ...details}` whose `code` is stable (the bot
translates by it; `message` is for developers and never contains personal data):

| code | status | details |
|---|---|---|
| invalid_request | 400 | `field` (dotted path of the offending input) |
| unauthorized | 401 | |
| access_denied | 403 | `reason` |
| not_found | 404 | |
| slot_taken, already_booked, grant_limit_reached | 409 | `appointment_id` for already_booked, `limit` for grant_limit_reached |
| code_expired, code_exhausted | 410 | |
| code_wrong | 422 | `attempts_left` |
| rate_limited, lookup_locked | 429 | `retry_after` (seconds, also as the `Retry-After` header) |
| backend_error | 500 | |
| backend_unavailable | 503 | |

Clients must accept codes they do not know. Routing errors answer `unknown_endpoint` (404) and
`method_not_allowed` (405).

**Retries.** Operations marked `x-retry-safe: true` may be repeated by clients after a timeout,
a connection error or a 502/503/504: reads, and `book` / `reschedule`, whose `Idempotency-Key`
header (one fresh key per intended booking, reused on its repeats) makes a repeat return the
first result. A repeat may arrive while the first request is still running (the client timed
out), so a server must serialise requests with the same key. Other writes are sent once.
"""


def build_openapi() -> dict[str, Any]:
    schemas = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, schemas)
    for endpoint in ENDPOINTS:  # the Args models are split into parameters and bodies above
        schemas.pop(endpoint.args.__name__, None)
    schemas["Error"] = _error_schema()
    return {
        "openapi": "3.1.0",
        "info": {"title": "Records API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "http://127.0.0.1:8081", "description": "local sandbox"}],
        "security": [{"serviceToken": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"serviceToken": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(schemas.items())),
        },
    }


def _schemas() -> dict[str, Any]:
    """Every Args model (validation) and response type (serialization), sharing ``$defs``."""
    inputs: list[tuple[str, Any, TypeAdapter[Any]]] = []
    for endpoint in ENDPOINTS:
        inputs.append((endpoint.op, "validation", TypeAdapter(endpoint.args)))
        if endpoint.media_type == "application/json":
            inputs.append((endpoint.op, "serialization", endpoint.response))
    by_key, defs = TypeAdapter.json_schemas(inputs, ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    # Keep each response's top-level schema (e.g. an array of Grant) for _operation.
    for (op, mode), schema in by_key.items():
        if mode == "serialization":
            schemas[f"__response__{op}"] = schema
    return schemas


def _operation(endpoint: Endpoint[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    args = schemas[endpoint.args.__name__]
    properties: dict[str, Any] = args.get("properties", {})
    required = set(args.get("required", []))
    parameters: list[dict[str, Any]] = []
    body_properties: dict[str, Any] = {}
    for name, full_schema in properties.items():
        schema = _plain(full_schema)
        if name in endpoint.path_fields:
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        elif name in HEADER_FIELDS:
            parameters.append(
                {"name": HEADER_FIELDS[name], "in": "header", "required": True, "schema": schema}
            )
        elif endpoint.method == "GET":
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": schema}
            )
        else:
            body_properties[name] = schema
    operation: dict[str, Any] = {
        "operationId": endpoint.op,
        "summary": endpoint.summary,
        "description": inspect.getdoc(getattr(RecordsBackend, endpoint.op)) or "",
        "x-retry-safe": endpoint.retry_safe,
    }
    if parameters:
        operation["parameters"] = parameters
    if endpoint.method == "POST":
        body: dict[str, Any] = {
            "type": "object",
            "additionalProperties": False,
            "properties": body_properties,
        }
        body_required = sorted(required & body_properties.keys())
        if body_required:
            body["required"] = body_required
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    operation["responses"] = _responses(endpoint, schemas.pop(f"__response__{endpoint.op}", None))
    return operation


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """An input's schema without pydantic's title and, for optional inputs, without the
    ``null`` branch: on the wire an absent value is simply left out."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    branches = schema.get("anyOf", [])
    if len(branches) == 2 and {"type": "null"} in branches:
        (kept,) = (branch for branch in branches if branch != {"type": "null"})
        del schema["anyOf"]
        schema = {**kept, **schema}
        if schema.get("default", ...) is None:
            del schema["default"]
    return schema


def _responses(endpoint: Endpoint[Any, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    if schema is None:  # PDF
        schema = {"type": "string", "contentMediaType": endpoint.media_type}
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {endpoint.media_type: {"schema": schema}}}
    }
    codes_by_status: dict[int, list[str]] = {401: [UNAUTHORIZED]}
    for code in ("invalid_request", *endpoint.errors, "backend_unavailable"):
        codes_by_status.setdefault(STATUS_BY_CODE[code], []).append(code)
    for status, codes in sorted(codes_by_status.items()):
        response: dict[str, Any] = {
            "description": ", ".join(codes),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
        if status == 429:
            response["headers"] = {
                "Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}
            }
        responses[str(status)] = response
    return responses


def _error_schema() -> dict[str, Any]:
    reasons = sorted(
        value
        for name, value in vars(AccessDenied).items()
        if name.startswith("REASON_") and isinstance(value, str)
    )
    return {
        "type": "object",
        "description": "A typed error; extra fields depend on the code (see the table above).",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "field": {"type": "string"},
            "reason": {"type": "string", "enum": reasons},
            "retry_after": {"type": "integer", "minimum": 1},
            "attempts_left": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
        },
    }


def render_yaml(document: dict[str, Any]) -> str:
    import yaml  # dev dependency only

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None  # docstrings stay readable
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)
    header = "# Generated by `python -m backend_client.records_api.openapi`; do not edit.\n"
    body = yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def main(argv: list[str]) -> int:
    text = render_yaml(build_openapi())
    if "--check" in argv:
        current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
        if current != text:
            print(f"{OPENAPI_PATH} is stale; run python -m backend_client.records_api.openapi")
            return 1
        return 0
    OPENAPI_PATH.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
