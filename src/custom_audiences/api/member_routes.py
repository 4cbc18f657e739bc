"""Handlers for an audience's members: add/remove, replace, clear (all 202) and list.

A mutation body is decoded and turned into a ``Mutation`` in a worker thread, together
with the store's enqueue: a 10 MB body never blocks the event loop.
"""

from __future__ import annotations

from functools import partial

import anyio.to_thread
from litestar import Response, delete, get, post, put
from litestar.params import FromPath

from custom_audiences.api.bodies import add_remove_mutation, read_body, replace_mutation
from custom_audiences.api.handler_types import AnyRequest, ServicesDep
from custom_audiences.api.params import member_cursor, member_limit
from custom_audiences.api.responses import json_response
from custom_audiences.api.schemas import audience_response, user_list_response

ACCEPTED = 202


@post("/{vendor_id:str}/users", status_code=ACCEPTED)
async def add_remove_users(
    request: AnyRequest, app_id: FromPath[str], vendor_id: FromPath[str], services: ServicesDep
) -> Response[bytes]:
    raw = await read_body(request)
    build = partial(add_remove_mutation, raw)
    audience = await anyio.to_thread.run_sync(services.mutations.submit, app_id, vendor_id, build)
    return json_response(audience_response(audience), ACCEPTED)


@put("/{vendor_id:str}/users/replace", status_code=ACCEPTED)
async def replace_users(
    request: AnyRequest, app_id: FromPath[str], vendor_id: FromPath[str], services: ServicesDep
) -> Response[bytes]:
    raw = await read_body(request)
    build = partial(replace_mutation, raw)
    audience = await anyio.to_thread.run_sync(services.mutations.submit, app_id, vendor_id, build)
    return json_response(audience_response(audience), ACCEPTED)


@delete("/{vendor_id:str}/users/clear", status_code=ACCEPTED)
async def clear_users(
    app_id: FromPath[str], vendor_id: FromPath[str], services: ServicesDep
) -> Response[bytes]:
    audience = await anyio.to_thread.run_sync(services.mutations.clear, app_id, vendor_id)
    return json_response(audience_response(audience), ACCEPTED)


@get("/{vendor_id:str}/users")
async def list_users(
    request: AnyRequest, app_id: FromPath[str], vendor_id: FromPath[str], services: ServicesDep
) -> Response[bytes]:
    query = request.query_params
    cursor, limit = member_cursor(query), member_limit(query)
    listing = await anyio.to_thread.run_sync(
        services.members.list_page, app_id, vendor_id, cursor, limit
    )
    return json_response(user_list_response(listing))


MEMBER_HANDLERS = [add_remove_users, replace_users, clear_users, list_users]
