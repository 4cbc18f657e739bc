"""Slow clients: trickled heads, trickled or stalled bodies and silent connections are cut off
by the read timeout, while normal requests go on being served beside them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest

from .support import Demo, Launcher, Server, audiences_path, read_demo
from .test_durability import create_audience, post_add

READ_TIMEOUT = 2.0
SLOW = 50


def connect(server: Server) -> socket.socket:
    parts = urlsplit(server.base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def outcome(sock: socket.socket) -> str:
    """How the server ended a slow connection: its status code, or 'closed' without one."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    raw = b"".join(chunks)
    if not raw:
        return "closed"
    head, _, body = raw.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1].decode()
    assert json.loads(body)["error"]["code"] == "REQUEST_TIMEOUT", raw
    return status


@pytest.fixture
def server(launcher: Launcher) -> Server:
    return launcher.serve(CUSTOM_AUDIENCES_READ_TIMEOUT_SECONDS=str(READ_TIMEOUT))


def trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    """One byte per connection every 0.2 s, for as long as the server takes them."""
    while not stop.wait(0.2):
        for sock in list(sockets):
            try:
                sock.send(b"a")
            except OSError:
                sockets.remove(sock)  # cut off


@pytest.fixture
def demo(server: Server) -> Demo:
    return read_demo(server.stdout)


def test_slow_connections_are_cut_off_and_do_not_starve_others(server: Server, demo: Demo) -> None:
    """50 slow connections hang about; normal requests still succeed; then all 50 are cut."""
    with server.client(demo.token) as client, ExitStack() as stack:
        path = create_audience(client, demo, "slow")
        trickled: list[socket.socket] = []  # heads, then bodies, a byte at a time
        stalled, silent = [], []
        mutation = (
            f"POST {path}/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {demo.token}\r\n"
            f'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"add": ["a'
        ).encode()
        for n in range(SLOW):
            sock = stack.enter_context(connect(server))
            kind = n % 10
            if kind < 3:  # a head that never ends
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                trickled.append(sock)
            elif kind < 5:  # a body trickled more slowly than any real upload
                sock.sendall(mutation)
                trickled.append(sock)
            elif kind < 8:  # a body that stops after 10 of its 1000 bytes
                sock.sendall(mutation)
                stalled.append(sock)
            else:  # connected, and not a byte sent
                silent.append(sock)
        stop = threading.Event()
        feeding = threading.Thread(target=trickle, args=(list(trickled), stop))
        feeding.start()
        try:
            served: Counter[int] = Counter()
            for _ in range(30):
                served[client.get(path).status_code] += 1
                served[client.get(audiences_path(demo.app_id)).status_code] += 1
            served[post_add(client, path, [f"user-{n}" for n in range(100)]).status_code] += 1
            assert served == {200: 60, 202: 1}
            ends = Counter(outcome(sock) for sock in trickled + stalled + silent)
        finally:
            stop.set()
            feeding.join()
    assert ends == {"408": 40, "closed": 10}, ends
    assert "api.internal_error" not in server.stderr
    assert "Traceback" not in server.stderr


def test_a_slow_but_steady_body_is_received(server: Server, demo: Demo) -> None:
    """A body sent in pieces, at a pace well above the minimum and each pause shorter than
    the read timeout, gets its 202 though it takes longer than the timeout overall."""
    with server.client(demo.token) as client:
        path = create_audience(client, demo, "steady")
    body = json.dumps({"add": [f"steady-{n:08d}" for n in range(400)]}).encode()  # ~8 KB
    pieces = [body[i : i + len(body) // 4 + 1] for i in range(0, len(body), len(body) // 4 + 1)]
    with connect(server) as sock:
        sock.sendall(
            f"POST {path}/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {demo.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        for piece in pieces:
            time.sleep(READ_TIMEOUT * 0.6)
            sock.sendall(piece)
        assert sock.recv(65536).startswith(b"HTTP/1.1 202 ")


def test_an_oversized_head_sent_whole_is_refused(server: Server) -> None:
    """70 KB of headers arriving complete in one piece get 431, like a head that keeps coming."""
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert json.loads(body)["error"]["code"] == "REQUEST_HEADERS_TOO_LARGE"
