"""Builds the OpenAPI 3.1 document from the operation table and the msgspec Structs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec

from custom_audiences import __version__
from custom_audiences.api.operations import ACCESS_ERRORS, OPERATIONS, Operation
from custom_audiences.api.schemas import ErrorResponse
from custom_audiences.config import MAX_BODY_BYTES
from custom_audiences.errors import ApiError
from custom_audiences.services.members import DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT

Json = dict[str, Any]
REF = "#/components/schemas/{name}"
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

DESCRIPTION = f"""Static lists of user identifiers ("custom audiences") for mobile apps.

Every error is `{{"error": {{"code": ..., "messages": [...]}}}}`, including 404 `NOT_FOUND` for
unknown routes and 405 `METHOD_NOT_ALLOWED`. Checks run in this order: authentication
(401), access to the app (403 `FORBIDDEN`), the account's feature (403
`FEATURE_NOT_ENABLED`), the key's rate limit (429), then the endpoint's own checks.
Request bodies are limited to {MAX_BODY_BYTES} bytes.
"""

PARAMETERS: Json = {
    "app_id": {"name": "app_id", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "The application's id (app_...)."},
    "vendor_id": {"name": "vendor_id", "in": "path", "required": True,
                  "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.\\-]{1,255}$"},
                  "description": "Your identifier for the custom audience."},
    "page": {"name": "page", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "default": 1},
             "description": "1-based page number (25 items per page)."},
    "cursor": {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
               "description": "next_cursor of the previous page."},
    "limit": {"name": "limit", "in": "query", "required": False,
              "schema": {"type": "integer", "minimum": MIN_LIMIT, "maximum": MAX_LIMIT,
                         "default": DEFAULT_LIMIT},
              "description": "Results per page."},
}  # fmt: skip

HEADERS: Json = {
    "X-RateLimit-Limit": {"description": "Requests allowed per window for this API key.",
                          "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window.",
                              "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix time (seconds) at which the current window ends.",
                          "schema": {"type": "integer"}},
    "Retry-After": {"description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer"}},
}  # fmt: skip


def build_openapi() -> Json:
    body_types = {op.response for op in OPERATIONS} | {op.request for op in OPERATIONS}
    types = sorted((t for t in body_types if t is not None), key=lambda t: t.__name__)
    _, schemas = msgspec.json.schema_components([*types, ErrorResponse], ref_template=REF)
    paths: Json = defaultdict(dict)
    for operation in OPERATIONS:
        paths[operation.path][operation.method] = _operation(operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Custom Audiences API",
            "version": __version__,
            "description": DESCRIPTION,
        },
        "paths": dict(paths),
        "components": {
            "schemas": schemas,
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }


def _operation(operation: Operation) -> Json:
    document: Json = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in operation.parameters],
        "responses": _responses(operation),
    }
    if operation.description:
        document["description"] = operation.description
    if not operation.authenticated:
        document["security"] = []
    if operation.request is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(operation.request)}},
        }
    return document


def _responses(operation: Operation) -> Json:
    rate = operation.authenticated
    if operation.response is None:
        success_schema: Json = {"type": "object"}
    else:
        success_schema = _ref(operation.response)
    responses: Json = {
        str(operation.status): {
            "description": operation.summary,
            "headers": _headers(rate_limited=rate),
            "content": {"application/json": {"schema": success_schema}},
        }
    }
    errors = (*ACCESS_ERRORS, *operation.errors) if rate else operation.errors
    by_status: dict[int, list[type[ApiError]]] = defaultdict(list)
    for error in errors:
        if error not in by_status[error.status]:
            by_status[error.status].append(error)
    for status in sorted(by_status):
        codes = by_status[status]
        responses[str(status)] = {
            "description": "; ".join(f"{e.code}: {e.default_message()}" for e in codes),
            "headers": _headers(
                rate_limited=rate and status != 401, retry_after=status in (429, 503)
            ),
            "content": {
                "application/json": {
                    "schema": _ref(ErrorResponse),
                    "examples": {e.code: {"value": _error_example(e)} for e in codes},
                }
            },
        }
    return responses


def _headers(*, rate_limited: bool, retry_after: bool = False) -> Json:
    names = [*RATE_HEADERS] if rate_limited else []
    if retry_after:
        names.append("Retry-After")
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _ref(struct: type[msgspec.Struct]) -> Json:
    return {"$ref": REF.format(name=struct.__name__)}


def _error_example(error: type[ApiError]) -> Json:
    return {"error": {"code": error.code, "messages": [error.default_message()]}}
