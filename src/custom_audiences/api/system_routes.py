"""Unauthenticated routes: the health check and the OpenAPI document."""

from __future__ import annotations

import logging

import anyio.to_thread
from litestar import Response, get

from custom_audiences.api.errors import JSON
from custom_audiences.api.handler_types import OpenApiJsonDep, ServicesDep
from custom_audiences.api.responses import json_response
from custom_audiences.api.schemas import health_response
from custom_audiences.errors import ServiceUnavailable

logger = logging.getLogger(__name__)


@get("/healthz")
async def healthz(services: ServicesDep) -> Response[bytes]:
    """200 when the database answers, ``degraded`` in the body when Redis does not (requests
    are then served without a rate-limit check); 503 (in the error envelope) whatever the
    database's failure."""
    try:
        limiter = await anyio.to_thread.run_sync(services.check_health)
    except Exception as error:
        logger.warning("api.health_check_failed error=%r", error)
        raise ServiceUnavailable("The database cannot be reached") from None
    return json_response(health_response(limiter))


@get("/openapi.json")
async def openapi_document(openapi_json: OpenApiJsonDep) -> Response[bytes]:
    return Response(openapi_json, media_type=JSON)


SYSTEM_HANDLERS = [healthz, openapi_document]
