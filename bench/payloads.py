"""Deterministic identifiers and request bodies for the benchmarks."""

from __future__ import annotations

import msgspec

MAX_BODY_BYTES = 10 * 1024 * 1024
# Multiplying by an odd constant permutes 64-bit integers: distinct ids in a scrambled order.
_SCRAMBLE = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
#: 17-character ids: 524,000 of them make a {"add": [...]} body just under 10 MiB.
FULL_BODY_IDS = 524_000


def ids(prefix: str, count: int, start: int = 0) -> list[str]:
    """``count`` distinct 17-character ids (a one-letter prefix + 16 hex digits), unsorted."""
    assert len(prefix) == 1
    return [f"{prefix}{(i * _SCRAMBLE) & _MASK:016x}" for i in range(start, start + count)]


def add_body(add: list[str]) -> bytes:
    body = msgspec.json.encode({"add": add})
    assert len(body) <= MAX_BODY_BYTES, len(body)
    return body


def replace_body(users: list[str]) -> bytes:
    return msgspec.json.encode({"users": users})


class AddRequest(msgspec.Struct):
    """The typed shape the decode baseline parses, as the API does."""

    add: list[str] | None = None
    remove: list[str] | None = None
