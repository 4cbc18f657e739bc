"""uvicorn's httptools protocol with limits on request heads: their size, and how long they take.

httptools has no header size limit of its own (h11 has one), and uvicorn has no read
timeout at all: a client could make the server buffer an endless request head, or hold a
connection (and, mid-body, a request task) forever by sending nothing, or one byte now
and then. This protocol adds:

- a size cap: a head over ``MAX_HEAD_BYTES`` (whether it arrives whole or keeps coming)
  is answered 431, and the connection closes;
- a head deadline: the request line and headers must arrive within ``read_timeout``
  seconds of the connection (or, on a kept-alive one, of the request's first byte);
- body limits: once the head is in, no ``read_timeout`` seconds may pass without a byte
  of the body, and the body must keep an average pace of ``MIN_BODY_BYTES_PER_SECOND``
  after a ``read_timeout`` of grace (so that a byte every few seconds cannot hold the
  connection either), time the server itself pauses reading not counted.

A deadline missed with part of a request received is answered 408; a connection that
never sent a byte is just closed.
"""

from __future__ import annotations

import asyncio
import json
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from custom_audiences.errors import ApiError, RequestHeadersTooLarge, RequestTimeout

logger = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
READ_TIMEOUT_SECONDS = 20.0
#: The slowest average pace a body may keep: 10 MiB still have 2 hours 50 minutes.
MIN_BODY_BYTES_PER_SECOND = 1024
_REASONS = {431: b"Request Header Fields Too Large", 408: b"Request Timeout"}


def _error_response(error: ApiError, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    body = json.dumps({"error": {"code": error.code, "messages": error.messages}}).encode()
    lines = [b"HTTP/1.1 %d %s" % (error.status, _REASONS[error.status])]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    read_timeout = READ_TIMEOUT_SECONDS
    _head_open = True  # waiting for (the rest of) a request line and headers
    _head_bytes = 0  # bytes received while the head was incomplete
    _head_size = 0  # the parsed head's request line and headers
    _too_large = False
    _reading = False  # a request is under way and incomplete: its deadline applies
    _deadline = 0.0  # the head's deadline, or the body's next stall deadline
    _body_start = 0.0
    _body_bytes = 0
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_open, self._head_bytes = True, 0
        super().connection_made(transport)
        self._expect_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_expecting()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_open:
            if not self._reading:  # the first byte of a request on a kept-alive connection
                self._expect_request()
            self._head_bytes += len(data)
        else:
            self._deadline = self.loop.time() + self.read_timeout  # the body moves on
            self._body_bytes += len(data)
        super().data_received(data)
        # Checked after parsing, so a chunk that completes the head (and brings body bytes
        # along, as a large POST does) never counts against the limit.
        if self._too_large or (self._head_open and self._head_bytes > MAX_HEAD_BYTES):
            self._refuse(RequestHeadersTooLarge())

    def on_message_begin(self) -> None:
        self._head_size = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_open, self._head_bytes = False, 0
        if self._head_size > MAX_HEAD_BYTES:
            self._too_large = True  # arrived whole: refused once parsing stops, never run
            return
        self._body_start, self._body_bytes = self.loop.time(), 0
        self._deadline = self._body_start + self.read_timeout  # now the body's stall limit
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._too_large:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._too_large:
            return
        self._head_open = True
        self._stop_expecting()  # what follows is the app's time, then keep-alive's
        super().on_message_complete()

    # -- deadlines ----------------------------------------------------------------------
    def _expect_request(self) -> None:
        self._reading = True
        self._deadline = self.loop.time() + self.read_timeout
        if self._timer is None:
            self._timer = self.loop.call_at(self._deadline, self._check_deadline)

    def _stop_expecting(self) -> None:
        self._reading = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check_deadline(self) -> None:
        self._timer = None
        if not self._reading or self.transport.is_closing():
            return
        now = self.loop.time()
        if self.flow.read_paused or self._awaits_continue():
            # The server is the one holding things up (it paused reading for a pipelined
            # request or an unconsumed body, or owes a 100 Continue): start over from now.
            self._deadline = now + self.read_timeout
            self._body_start = now - self._body_bytes / MIN_BODY_BYTES_PER_SECOND
        deadline = self._deadline
        if not self._head_open:
            paced = self._body_start + self.read_timeout
            deadline = min(deadline, paced + self._body_bytes / MIN_BODY_BYTES_PER_SECOND)
        if now < deadline:
            self._timer = self.loop.call_at(deadline, self._check_deadline)
            return
        phase = "head" if self._head_open else "body"
        logger.info("http.read_timeout client=%s phase=%s", self.client, phase)
        if self._head_open and self._head_bytes == 0:
            self.transport.close()  # nothing was asked: nothing to answer
        elif self._head_open or not (self.cycle and self.cycle.response_started):
            self._refuse(RequestTimeout())
        else:
            self.transport.close()

    def _awaits_continue(self) -> bool:
        return not self._head_open and bool(self.cycle and self.cycle.waiting_for_100_continue)

    def _refuse(self, error: ApiError) -> None:
        self._head_open = self._reading = False
        self._stop_expecting()
        if not self.transport.is_closing():
            self.transport.write(_error_response(error, self.server_state.default_headers))
            self.transport.close()


def bounded_protocol(read_timeout: float) -> type[BoundedHttpToolsProtocol]:
    """The protocol class with this read timeout, for ``uvicorn.Config(http=...)``."""

    class Configured(BoundedHttpToolsProtocol):
        pass

    Configured.read_timeout = read_timeout
    return Configured
