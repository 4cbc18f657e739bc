"""Mutation bodies and their exact encoded size, so large mutations split under the body limit.

The size of a body is predicted from its identifiers without encoding them one by one
(``encoded_size``); a batch is then encoded in one call. The prediction is exact for what
``msgspec.json`` writes, and ``encode_batch`` still checks it, so a body never exceeds the
limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import msgspec

#: The server's body limit: 10 MiB. A body of exactly this many bytes is accepted.
MAX_BODY_BYTES = 10 * 1024 * 1024

_ADD_ONLY = len(b'{"add":[]}')
_REMOVE_ONLY = len(b'{"remove":[]}')
_BOTH = len(b'{"add":[],"remove":[]}')
_USERS = len(b'{"users":[]}')
# Control characters msgspec writes as two-character escapes; the others take six (\u00XX).
_SHORT_ESCAPES = frozenset("\b\t\n\f\r")


def encoded_size(identifier: str) -> int:
    """Bytes ``identifier`` takes as a JSON string, quotes included (UTF-8, msgspec's escapes)."""
    size = (len(identifier) if identifier.isascii() else len(identifier.encode("utf-8"))) + 2
    if '"' in identifier or "\\" in identifier:
        size += identifier.count('"') + identifier.count("\\")
    if not identifier.isprintable():
        # isprintable is False for every control character, and for a few others (U+2028...)
        # that msgspec writes as they are; only the real controls are escaped.
        for char in identifier:
            if char < " ":
                size += 1 if char in _SHORT_ESCAPES else 5
    return size


@dataclass(slots=True)
class Batch:
    """Identifiers for one add/remove request, and the exact size of its encoded body."""

    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    add_bytes: int = 0  # encoded identifiers plus the commas between them
    remove_bytes: int = 0

    @property
    def size(self) -> int:
        return _framing(bool(self.add), bool(self.remove)) + self.add_bytes + self.remove_bytes

    def __len__(self) -> int:
        return len(self.add) + len(self.remove)


def split_batches(
    add: Iterable[str], remove: Iterable[str], limit: int = MAX_BODY_BYTES
) -> Iterator[Batch]:
    """Cut an add/remove mutation into batches whose bodies are at most ``limit`` bytes.

    Every addition comes before every removal, so sending the batches in order ends as the
    single request would have: an identifier both added and removed ends up removed.
    Inputs are consumed lazily; only one batch is held at a time.
    """
    batch = Batch()
    for removing, identifiers in ((False, add), (True, remove)):
        for identifier in identifiers:
            size = encoded_size(identifier)
            if not _fits(batch, size, removing=removing, limit=limit) and len(batch):
                yield batch
                batch = Batch()
            _append(batch, identifier, size, removing=removing)
    if len(batch):
        yield batch


def _framing(has_add: bool, has_remove: bool) -> int:
    """Bytes of the body around the identifiers: braces, keys, brackets."""
    if has_add and has_remove:
        return _BOTH
    return _ADD_ONLY if has_add else _REMOVE_ONLY


def _fits(batch: Batch, size: int, *, removing: bool, limit: int) -> bool:
    """Whether the batch stays within ``limit`` with one more identifier of ``size`` bytes."""
    has_add, has_remove = bool(batch.add) or not removing, bool(batch.remove) or removing
    comma = 1 if (batch.remove if removing else batch.add) else 0
    return (
        _framing(has_add, has_remove) + batch.add_bytes + batch.remove_bytes + size + comma <= limit
    )


def _append(batch: Batch, identifier: str, size: int, *, removing: bool) -> None:
    if removing:
        batch.remove_bytes += size + (1 if batch.remove else 0)
        batch.remove.append(identifier)
    else:
        batch.add_bytes += size + (1 if batch.add else 0)
        batch.add.append(identifier)


def encode_batch(batch: Batch) -> bytes:
    """The JSON body of an add/remove batch (absent lists are omitted, as the API allows)."""
    payload: dict[str, list[str]] = {}
    if batch.add:
        payload["add"] = batch.add
    if batch.remove:
        payload["remove"] = batch.remove
    return msgspec.json.encode(payload)


def replace_body_size(identifiers: Iterable[str]) -> int:
    """Bytes of ``{"users": [...]}`` for these identifiers, without encoding them."""
    count = total = 0
    for identifier in identifiers:
        count += 1
        total += encoded_size(identifier)
    return _USERS + total + max(0, count - 1)


def encode_users(identifiers: list[str]) -> bytes:
    return msgspec.json.encode({"users": identifiers})
