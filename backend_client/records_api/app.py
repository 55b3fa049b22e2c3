"""The aiohttp application serving a ``RecordsBackend`` as the Records API (``/v1/...``)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from backend_client.errors import BackendError, InvalidRequest, LookupLocked, RateLimited
from backend_client.protocol import RecordsBackend
from backend_client.records_api.logs import log_event
from backend_client.records_api.parsing import read_args
from backend_client.records_api.spec import STATUS_BY_CODE, UNAUTHORIZED, Endpoint
from backend_client.records_api.spec_endpoints import ENDPOINTS

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp's own errors (unknown route, wrong method, body too large) as JSON with a stable code.
_HTTP_CODES = {404: "unknown_endpoint", 405: "method_not_allowed"}


def create_records_api_app(
    backend: RecordsBackend,
    *,
    service_token: str,
    monotonic: Callable[[], float] | None = None,
) -> web.Application:
    """The Records API over ``backend``; ``monotonic`` (the serving process's clock) times
    each request for its log line."""
    if not service_token:
        raise ValueError("service_token must not be empty")
    middlewares = [_request_log(monotonic), _errors_as_json, _auth(service_token)]
    app = web.Application(middlewares=middlewares)
    for endpoint in ENDPOINTS:
        app.router.add_route(
            endpoint.method, endpoint.path, _handler(backend, endpoint), name=endpoint.op
        )
    return app


def error_response(err: BackendError) -> web.Response:
    response = web.json_response(err.to_payload(), status=STATUS_BY_CODE.get(err.code, 500))
    if isinstance(err, RateLimited | LookupLocked):
        response.headers["Retry-After"] = str(err.retry_after)
    return response


def _handler(backend: RecordsBackend, endpoint: Endpoint[Any, Any]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        args = await read_args(request, endpoint)
        result = await endpoint.call(backend, args)
        if endpoint.media_type == "application/pdf":
            return web.Response(body=result, content_type="application/pdf")
        return web.Response(
            body=endpoint.response.dump_json(result), content_type="application/json"
        )

    return handle


def _auth(service_token: str) -> Middleware:
    expected = f"Bearer {service_token}".encode()

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Before routing errors, so an unauthenticated caller learns nothing about the API.
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.json_response(
                {"code": UNAUTHORIZED, "message": "missing or wrong service token"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await handler(request)

    return check_token


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BackendError as err:
        return error_response(err)
    except web.HTTPException as exc:
        if exc.status == 413:
            return error_response(InvalidRequest("body", "body too large"))
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, f"http_{exc.status}")
        return web.json_response({"code": code, "message": exc.reason}, status=exc.status)
    except Exception as exc:  # noqa: BLE001 - last line of defence: a JSON 500, no traceback page
        # The bot's JSON formatter prints an exception's type and place, never its message.
        log_event(
            logger,
            "records_api.internal_error",
            logging.ERROR,
            exc_info=True,
            error=type(exc).__name__,
        )
        return error_response(BackendError("internal error"))


def _request_log(monotonic: Callable[[], float] | None) -> Middleware:
    """One line per request; its duration only when the server was given a clock to time it."""

    @web.middleware
    async def log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The route name, not the URL: query strings may hold requester names.
        started = monotonic() if monotonic else None
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            ms = None
            if monotonic is not None and started is not None:
                ms = round((monotonic() - started) * 1000, 1)
            log_event(
                logger,
                "records_api.request",
                op=request.match_info.route.name or "unmatched",
                method=request.method,
                status=status,
                ms=ms,
            )

    return log_requests
