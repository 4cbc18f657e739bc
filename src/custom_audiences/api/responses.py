"""Encoding response Structs: msgspec straight to bytes, with the status each route uses."""

from __future__ import annotations

import msgspec
from litestar import Response

from custom_audiences.api.errors import JSON


def json_response(body: msgspec.Struct, status: int = 200) -> Response[bytes]:
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON)
