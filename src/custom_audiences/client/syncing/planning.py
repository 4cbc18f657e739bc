"""Choosing how to sync: incremental diff or replace-all, by the requests and bytes each costs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

#: Bytes of ``{"users":[]}`` around the identifiers of a replace body.
REPLACE_FRAMING = len(b'{"users":[]}')


class SyncMode(StrEnum):
    #: Read the membership, send only the additions and removals.
    DIFF = "diff"
    #: Send the whole list with replace-all (one request, at most once per 12 hours).
    REPLACE = "replace"
    #: Whichever of the two costs less.
    AUTO = "auto"


@dataclass(frozen=True, slots=True, order=True)
class Cost:
    """Requests first (the API limits them per minute), then bytes moved."""

    requests: int
    bytes: int


def replace_cost(wanted_bytes: int, max_body_bytes: int) -> Cost | None:
    """One request carrying the whole list, or None when the list does not fit in one.

    ``wanted_bytes`` counts the identifiers as JSON array items, commas included.
    """
    body = REPLACE_FRAMING + wanted_bytes
    return Cost(1, body) if body <= max_body_bytes else None


def diff_cost(
    *,
    wanted_count: int,
    wanted_bytes: int,
    remote_count: int,
    max_body_bytes: int,
    page_size: int,
) -> Cost:
    """The least a diff can cost: reading every member, plus the changes the counts imply.

    The members are unknown before they are read, so the changes are bounded from below by
    the difference in counts (the identifiers' mean size taken from the source).
    """
    mean = wanted_bytes / wanted_count if wanted_count else 0.0
    reads = math.ceil(remote_count / page_size)
    changed_bytes = int(abs(wanted_count - remote_count) * mean)
    writes = math.ceil(changed_bytes / max_body_bytes)
    return Cost(reads + writes, int(remote_count * mean) + changed_bytes)


def choose_mode(
    requested: SyncMode,
    *,
    wanted_count: int,
    wanted_bytes: int,
    remote_count: int,
    max_body_bytes: int,
    page_size: int,
) -> SyncMode:
    """The mode to run: ``replace`` only when the list fits in one request.

    ``auto`` takes replace only when it is strictly cheaper than the best case of a diff:
    on a tie the diff wins, as it leaves the 12-hour replace window unused.
    """
    replace = replace_cost(wanted_bytes, max_body_bytes)
    if requested is SyncMode.DIFF or replace is None:
        return SyncMode.DIFF
    if requested is SyncMode.REPLACE:
        return SyncMode.REPLACE
    diff = diff_cost(
        wanted_count=wanted_count,
        wanted_bytes=wanted_bytes,
        remote_count=remote_count,
        max_body_bytes=max_body_bytes,
        page_size=page_size,
    )
    return SyncMode.REPLACE if replace < diff else SyncMode.DIFF
