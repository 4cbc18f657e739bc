"""Handlers for audiences themselves: create, list, get, archive.

Handlers are thin: parse the request, call one service in a worker thread (store calls
block, the event loop must not), encode the result.
"""

from __future__ import annotations

import anyio.to_thread
from litestar import Response, delete, get, post
from litestar.params import FromPath

from custom_audiences.api.bodies import decode_json, read_body
from custom_audiences.api.handler_types import AnyRequest, ServicesDep
from custom_audiences.api.params import page_number
from custom_audiences.api.responses import json_response
from custom_audiences.api.schemas import (
    audience_list_response,
    audience_response,
)


@post("/", status_code=201)
async def create_audience(
    request: AnyRequest, app_id: FromPath[str], services: ServicesDep
) -> Response[bytes]:
    raw = await read_body(request)

    def create() -> Response[bytes]:
        audience = services.audiences.create(app_id, decode_json(raw))
        return json_response(audience_response(audience), 201)

    return await anyio.to_thread.run_sync(create)


@get("/")
async def list_audiences(
    request: AnyRequest, app_id: FromPath[str], services: ServicesDep
) -> Response[bytes]:
    page = page_number(request.query_params)
    listing = await anyio.to_thread.run_sync(services.audiences.list_page, app_id, page)
    return json_response(audience_list_response(listing))


@get("/{vendor_id:str}")
async def get_audience(
    app_id: FromPath[str], vendor_id: FromPath[str], services: ServicesDep
) -> Response[bytes]:
    audience = await anyio.to_thread.run_sync(services.audiences.get, app_id, vendor_id)
    return json_response(audience_response(audience))


@delete("/{vendor_id:str}", status_code=200)
async def archive_audience(
    app_id: FromPath[str], vendor_id: FromPath[str], services: ServicesDep
) -> Response[bytes]:
    audience = await anyio.to_thread.run_sync(services.audiences.archive, app_id, vendor_id)
    return json_response(audience_response(audience))


AUDIENCE_HANDLERS = [create_audience, list_audiences, get_audience, archive_audience]
