"""The one place errors become responses: ``{"error": {"code", "messages"}}`` for everything.

``errors.ApiError`` renders as itself. Litestar's routing and body-limit exceptions map
onto the catalogue (404 NOT_FOUND, 405 METHOD_NOT_ALLOWED, 413 PAYLOAD_TOO_LARGE), an
unreachable database is 503 SERVICE_UNAVAILABLE, and anything else is logged with its
traceback and answered 500 INTERNAL_ERROR with nothing internal in the body.
"""

from __future__ import annotations

import logging

import msgspec
from litestar import Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from custom_audiences.api.handler_types import AnyRequest
from custom_audiences.api.schemas import error_response
from custom_audiences.errors import (
    ApiError,
    InternalError,
    InvalidJson,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    ServiceUnavailable,
)
from custom_audiences.store.base import StoreUnavailable

logger = logging.getLogger(__name__)

JSON = "application/json"


def as_api_error(exception: Exception) -> ApiError:
    """The catalogue error to answer an exception with (logging the unexpected ones)."""
    if isinstance(exception, InternalError):
        # Its messages describe internals (a database error, say): log them, answer bare.
        logger.error("api.internal_error", exc_info=exception)
        return InternalError()
    if isinstance(exception, ApiError):
        return exception
    if isinstance(exception, StoreUnavailable):
        logger.warning("api.store_unavailable error=%s", exception)
        return ServiceUnavailable()
    if isinstance(exception, NotFoundException):
        return RouteNotFound()
    if isinstance(exception, MethodNotAllowedException):
        return MethodNotAllowed()
    if isinstance(exception, RequestEntityTooLarge):
        return PayloadTooLarge()
    if isinstance(exception, HTTPException) and exception.status_code == 400:
        # Litestar's own 400s: a malformed Content-Length or Host, a body it could not read.
        return InvalidJson("Malformed request")
    logger.error("api.internal_error", exc_info=exception)
    return InternalError()


def error_body(error: ApiError) -> bytes:
    return msgspec.json.encode(error_response(error.code, error.messages))


def error_headers(error: ApiError, exception: Exception) -> dict[str, str]:
    headers = error.headers()
    if isinstance(exception, MethodNotAllowedException) and exception.headers:
        headers = {**exception.headers, **headers}
    return headers


def handle_exception(request: AnyRequest, exception: Exception) -> Response[bytes]:
    """Litestar's exception handler for every exception, routing errors included."""
    error = as_api_error(exception)
    return Response(
        error_body(error),
        status_code=error.status,
        media_type=JSON,
        headers=error_headers(error, exception),
    )
