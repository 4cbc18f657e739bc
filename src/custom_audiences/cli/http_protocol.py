"""uvicorn's httptools protocol with a cap on the request line and headers.

httptools has no header size limit of its own (h11 has one), so a client could make the
server buffer an endless request head. This protocol counts the bytes received while a
request head is incomplete and answers 431 once they pass ``MAX_HEAD_BYTES``.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from custom_audiences.errors import RequestHeadersTooLarge

MAX_HEAD_BYTES = 64 * 1024


def _head_too_large_response(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    error = RequestHeadersTooLarge()
    body = json.dumps({"error": {"code": error.code, "messages": error.messages}}).encode()
    lines = [b"HTTP/1.1 431 Request Header Fields Too Large"]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _head_open = True  # waiting for (the rest of) a request line and headers
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_open, self._head_bytes = True, 0
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._head_open:
            self._head_bytes += len(data)
        super().data_received(data)
        # Checked after parsing, so a chunk that completes the head (and brings body bytes
        # along, as a large POST does) never counts against the limit.
        if self._head_open and self._head_bytes > MAX_HEAD_BYTES:
            self._head_open = False
            if not self.transport.is_closing():
                self.transport.write(_head_too_large_response(self.server_state.default_headers))
                self.transport.close()

    def on_headers_complete(self) -> None:
        self._head_open, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._head_open = True
        super().on_message_complete()
