"""A plain Python model of the contract: what the API must answer, written from the spec alone.

Nothing here imports the service: validity, ordering, counts and page sizes are restated
from ``custom-audiences-api.txt`` and ``CONTRACT.md`` so that the model can disagree with
the code.
"""

from __future__ import annotations

import math
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Any

PAGE_SIZE = 25
MAX_LENGTH = 255
PROCESSING_WARNING = "Custom audience is currently being updated"
VENDOR_ID_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_-.")
IDENTIFIER_TYPES = ("user_id", "anonymous_id")


def is_valid_identifier(value: str) -> bool:
    """1-255 characters, none of Unicode category Cc."""
    return 1 <= len(value) <= MAX_LENGTH and all(unicodedata.category(c) != "Cc" for c in value)


def is_valid_vendor_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= MAX_LENGTH
        and set(value) <= VENDOR_ID_CHARACTERS
    )


def is_valid_name(value: object) -> bool:
    """1-255 characters; U+0000 is refused (no engine can keep it in every database)."""
    return isinstance(value, str) and 1 <= len(value) <= MAX_LENGTH and "\x00" not in value


def byte_order(identifiers: set[str] | frozenset[str]) -> list[str]:
    """Ascending by UTF-8 bytes, the order List users promises."""
    return sorted(identifiers, key=lambda identifier: identifier.encode("utf-8"))


def total_pages(count: int) -> int:
    return math.ceil(count / PAGE_SIZE)


@dataclass(frozen=True)
class PendingJob:
    """An accepted mutation as the contract reduces it: disjoint sets of valid identifiers."""

    kind: str  # add_remove | replace | clear
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    skipped: int = 0

    @property
    def distinct_identifiers(self) -> int:
        return len(self.add) + len(self.remove)


def add_remove_job(add: list[str], remove: list[str]) -> PendingJob:
    """Invalid identifiers are skipped (each occurrence counted); one in both lists is removed."""
    valid_add = [i for i in add if is_valid_identifier(i)]
    valid_remove = [i for i in remove if is_valid_identifier(i)]
    skipped = len(add) - len(valid_add) + len(remove) - len(valid_remove)
    removed = frozenset(valid_remove)
    return PendingJob("add_remove", frozenset(valid_add) - removed, removed, skipped)


def replace_job(users: list[str]) -> PendingJob:
    valid = [i for i in users if is_valid_identifier(i)]
    return PendingJob("replace", frozenset(valid), frozenset(), len(users) - len(valid))


def clear_job() -> PendingJob:
    return PendingJob("clear")


@dataclass
class ModelAudience:
    """One audience as the contract says it must look; timestamps are the server's own."""

    id: str
    vendor_id: str
    name: str
    identifier_type: str
    created_at: str
    updated_at: str
    members: set[str] = field(default_factory=set)
    status: str = "ready"
    last_synced_at: str | None = None
    last_job_result: dict[str, int] | None = None
    replaced: bool = False
    pending: PendingJob | None = None

    @property
    def processing(self) -> bool:
        return self.status == "processing"

    def body(self) -> dict[str, Any]:
        """The ``custom_audience`` object every endpoint returns for this audience."""
        return {
            "id": self.id,
            "vendor_id": self.vendor_id,
            "name": self.name,
            "identifier_type": self.identifier_type,
            "user_count": len(self.members),
            "status": self.status,
            "last_synced_at": self.last_synced_at,
            "last_job_result": self.last_job_result,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def accept(self, job: PendingJob) -> None:
        self.pending, self.status = job, "processing"
        if job.kind == "replace":
            self.replaced = True  # an accepted replace counts, whatever becomes of it

    def apply(self) -> None:
        """The worker applied the pending job: all of it, then ``ready``."""
        job = self.pending
        assert job is not None
        if job.kind == "add_remove":
            self.members = (self.members - job.remove) | job.add
            processed = job.distinct_identifiers
        elif job.kind == "replace":
            self.members, processed = set(job.add), len(job.add)
        else:
            processed, self.members = len(self.members), set()
        self.last_job_result = _result(processed, job.skipped, 0)
        self.status, self.pending = "ready", None

    def fail(self) -> None:
        """The job failed: membership untouched, ``failed``, its identifiers counted as errors."""
        job = self.pending
        assert job is not None
        self.last_job_result = _result(0, job.skipped, job.distinct_identifiers)
        self.status, self.pending = "failed", None

    def page(self, after: str | None, limit: int) -> tuple[list[str], bool]:
        """Up to ``limit`` members strictly after ``after`` (byte-wise); whether more follow."""
        ordered = byte_order(self.members)
        if after:
            ordered = [m for m in ordered if m.encode("utf-8") > after.encode("utf-8")]
        return ordered[:limit], len(ordered) > limit


def _result(processed: int, skipped: int, errors: int) -> dict[str, int]:
    return {"processed_count": processed, "skipped_count": skipped, "error_count": errors}
