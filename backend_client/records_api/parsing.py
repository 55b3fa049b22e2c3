"""Turn an HTTP request into an endpoint's validated ``Args`` (or ``InvalidRequest``)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from backend_client.errors import InvalidRequest
from backend_client.records_api.spec import HEADER_FIELDS, Args, Endpoint


async def read_args(request: web.Request, endpoint: Endpoint[Any, Any]) -> Args:
    data = await _query(request) if endpoint.method == "GET" else await _body(request)
    # Path and header fields may only come from the path / headers, never be smuggled in.
    for name in (*endpoint.path_fields, *HEADER_FIELDS):
        if name in data:
            raise InvalidRequest(name, f"{name} is not a body or query field")
    data.update(request.match_info)
    for name, header in HEADER_FIELDS.items():
        if header in request.headers:
            data[name] = request.headers[header]
    try:
        args: Args = endpoint.args.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(*_describe(exc)) from None
    return args


async def _query(request: web.Request) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in request.query.items():  # items() repeats a name given twice
        if name in data:
            raise InvalidRequest(name, f"{name} given more than once")
        data[name] = value
    return data


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError
        raise InvalidRequest("body", "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("body", "body must be a JSON object")
    return body


def _describe(exc: ValidationError) -> tuple[str, str]:
    """(field, message) of the first problem; pydantic's ``msg`` never quotes the input."""
    error = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in error["loc"]) or "body"
    return field, f"{field}: {error['msg']}"
