"""The load's clients: a lean keep-alive HTTP/1.1 client, the API mix, and slow or oversized ones.

httpx would spend more CPU per request than the server on this 2-core machine; a request
here is a write and a few buffered reads on an asyncio stream.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import msgspec

#: Answers the contract allows under load besides success: a mutation already pending
#: (409) and a rate limit, per key or per replace interval (429).
ALLOWED = {409, 429}


@dataclass(frozen=True)
class Tenant:
    app_id: str
    token: str
    vendor_ids: tuple[str, ...]


@dataclass
class Stats:
    """Latencies (seconds) and statuses per endpoint, for one run."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int | str]] = field(default_factory=lambda: defaultdict(Counter))
    slow: Counter[str] = field(default_factory=Counter)

    def record(self, endpoint: str, status: int | str, seconds: float) -> None:
        self.statuses[endpoint][status] += 1
        if isinstance(status, int):
            self.latencies[endpoint].append(seconds)

    def unexpected(self) -> Counter[str]:
        """Answers outside 2xx and the contract's 409/429 (transport errors included)."""
        found: Counter[str] = Counter()
        for endpoint, statuses in self.statuses.items():
            for status, count in statuses.items():
                if not (isinstance(status, int) and (status < 300 or status in ALLOWED)):
                    found[f"{endpoint} {status}"] += count
        return found


class Http:
    """One keep-alive connection; reconnects after the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, token: str, body: bytes | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        try:
            status = int((await self.reader.readline()).split(b" ", 2)[1])
            length, close = 0, False
            while (line := await self.reader.readline()) != b"\r\n":
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            content = await self.reader.readexactly(length)
        except (IndexError, ValueError, asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise ConnectionError("the connection broke mid-response") from None
        if close:
            self.close()
        return status, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _identifiers(rng: random.Random, count: int) -> list[str]:
    return [f"user-{rng.randrange(200_000):06d}" for _ in range(count)]


def next_call(rng: random.Random, tenant: Tenant) -> tuple[str, str, str, bytes | None]:
    """(endpoint name, method, path, body) of a request from the mix."""
    base = f"/client/mobile_applications/{tenant.app_id}/custom_audiences"
    audience = f"{base}/{rng.choice(tenant.vendor_ids)}"
    roll = rng.random()
    if roll < 0.30:
        return "get", "GET", audience, None
    if roll < 0.45:
        return "list", "GET", f"{base}?page={rng.randint(1, 2)}", None
    if roll < 0.75:
        return "list users", "GET", f"{audience}/users?limit={rng.choice((100, 1000))}", None
    if roll < 0.93:
        body = {"add": _identifiers(rng, rng.randint(1, 200)), "remove": _identifiers(rng, 20)}
        return "add/remove", "POST", f"{audience}/users", msgspec.json.encode(body)
    if roll < 0.97:
        body = {"users": _identifiers(rng, rng.randint(1, 2000))}
        return "replace", "PUT", f"{audience}/users/replace", msgspec.json.encode(body)
    return "clear", "DELETE", f"{audience}/users/clear", None


async def api_client(
    host: str, port: int, tenant: Tenant, seed: int, deadline: float, stats: Stats
) -> None:
    """Requests back to back (closed loop) until the deadline."""
    rng, http = random.Random(seed), Http(host, port)
    try:
        while time.monotonic() < deadline:
            endpoint, method, path, body = next_call(rng, tenant)
            started = time.perf_counter()
            try:
                status, _ = await http.request(method, path, tenant.token, body)
            except OSError as error:
                stats.record(endpoint, type(error).__name__, 0.0)
                continue
            stats.record(endpoint, status, time.perf_counter() - started)
    finally:
        http.close()


async def _held_until_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    """Trickle bytes until the server answers or closes; its status, or 'closed'."""
    line = b""
    while not line:
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=1.0)
            if not line:
                return "closed"
        except TimeoutError:
            writer.write(b"a")  # one more byte: a trickle never finishes a head
        except ConnectionError:
            return "closed"
    return line.split(b" ", 2)[1].decode()


async def slow_client(
    host: str, port: int, tenant: Tenant, index: int, deadline: float, stats: Stats
) -> None:
    """Hold a connection open as long as the server allows, then open another.

    Even indexes trickle a request head, a byte a second (a trickle never ends a head).
    Odd ones send a real mutation's head and 10 of its 1,000 body bytes, then trickle
    the body the same way (more slowly than any real upload: it must be cut off too).
    """
    path = f"/client/mobile_applications/{tenant.app_id}/custom_audiences"
    while time.monotonic() < deadline:
        reader, writer = await asyncio.open_connection(host, port)
        opened = time.monotonic()
        if index % 2 == 0:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:
            writer.write(
                f"POST {path}/{tenant.vendor_ids[0]}/users HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {tenant.token}\r\nContent-Type: application/json\r\n"
                f'Content-Length: 1000\r\n\r\n{{"add": ["'.encode()
            )
        try:
            outcome = await asyncio.wait_for(
                _held_until_closed(reader, writer), deadline - time.monotonic() + 1
            )
        except TimeoutError:
            outcome = "still open at the end"
        writer.close()
        stats.slow[f"slow {outcome}"] += 1
        stats.latencies["slow held"].append(time.monotonic() - opened)


async def oversized_headers(host: str, port: int, deadline: float, stats: Stats) -> None:
    """Every second, a request with 70 KB of headers (over the 64 KiB cap)."""
    while time.monotonic() < deadline:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n")
        line = await reader.readline()
        stats.slow[f"oversized {line.split(b' ', 2)[1].decode() if line else 'closed'}"] += 1
        writer.close()
        await asyncio.sleep(1.0)
