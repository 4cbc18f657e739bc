"""Transport limits of the real server: request heads are capped, normal ones pass."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from .support import CLI, Launcher, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for these transport checks (none of them changes state)."""
    assert CLI.exists()
    workdir = tmp_path_factory.mktemp("limits")
    launcher = Launcher(workdir, f"sqlite:///{workdir / 'audiences.db'}")
    try:
        yield launcher.serve()
    finally:
        launcher.kill_all()


def raw_request(base_url: str, request: bytes) -> bytes:
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        # Both requests end with the server closing the connection: read to the end.
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_an_oversized_request_head_gets_431_in_the_error_envelope(server: Server) -> None:
    """Headers past 64 KiB are refused with 431 and a JSON error, and the connection closes."""
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 70_000
    response = raw_request(server.base_url, head)
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 431 Request Header Fields Too Large"
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "REQUEST_HEADERS_TOO_LARGE"


def test_a_request_with_large_but_reasonable_headers_is_served(server: Server) -> None:
    """A 16 KB header is well within the limit."""
    request = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Filler: "
        + b"a" * 16_000
        + b"\r\n\r\n"
    )
    assert raw_request(server.base_url, request).startswith(b"HTTP/1.1 200")


def test_pipelined_requests_are_each_answered(server: Server) -> None:
    """Two requests sent back to back on one connection both get their 200."""
    one = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    response = raw_request(server.base_url, one + last)
    assert response.count(b"HTTP/1.1 200 OK") == 2
