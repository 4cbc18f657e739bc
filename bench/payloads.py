"""Deterministic identifiers and request bodies for the benchmarks."""

from __future__ import annotations

import msgspec

MAX_BODY_BYTES = 10 * 1024 * 1024
# Multiplying by an odd constant permutes 64-bit integers: distinct ids in a scrambled order.
_SCRAMBLE = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
#: 17-character ids: 524,000 of them make a {"add": [...]} body just under 10 MiB.
FULL_BODY_IDS = 524_000


def ids(start: int, count: int) -> list[str]:
    """The ids numbered ``start`` to ``start + count - 1``: 17 characters each, unsorted.

    Scrambling spreads every range over the whole key space, so the ids of an add land
    among an audience's existing members (as real ids do), not after them.
    """
    return [f"u{(i * _SCRAMBLE) & _MASK:016x}" for i in range(start, start + count)]


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
