"""Calling the ASGI app by hand, to see exactly how much of a request body it reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio
from litestar import Litestar
from litestar.types import Message


@dataclass
class RawExchange:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks_read: int = 0


def post_chunks(
    app: Litestar,
    path: str,
    chunks: list[bytes],
    headers: dict[str, str],
    *,
    method: str = "POST",
) -> RawExchange:
    """Send ``chunks`` as a streamed body and record how many the app pulled."""
    exchange = RawExchange()
    pending = list(chunks)

    async def receive() -> Message:
        if not pending:
            return {"type": "http.request", "body": b"", "more_body": False}
        exchange.chunks_read += 1
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            exchange.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            exchange.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }

    async def call() -> None:
        await app(scope, receive, send)  # type: ignore[arg-type]

    anyio.run(call)
    return exchange
