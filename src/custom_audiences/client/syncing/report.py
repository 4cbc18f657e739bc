"""What a sync did (or, in a dry run, would do), and the progress events it emits on the way."""

from __future__ import annotations

from dataclasses import dataclass, field

from custom_audiences.client.syncing.identifiers import Rejections

READ = "read"
COMPARE = "compare"
SEND = "send"
WAIT = "wait"


@dataclass(frozen=True, slots=True)
class Progress:
    """``done`` out of ``total`` (None when unknown) in a phase; ``finished`` ends the phase."""

    phase: str
    done: int
    total: int | None = None
    finished: bool = False


@dataclass(slots=True)
class SyncReport:
    vendor_id: str
    requested_mode: str
    dry_run: bool
    mode: str = ""  # what ran: diff, replace, clear, or none (nothing to change)
    created: bool = False
    entries: int = 0  # identifiers read, valid or not, duplicates included
    valid: int = 0  # distinct valid identifiers
    duplicates: int = 0
    rejections: Rejections = field(default_factory=Rejections)
    added: int | None = None  # None when unknown (replace does not say)
    removed: int | None = None
    unchanged: int | None = None
    user_count: int | None = None  # the audience's count at the end (None in a dry run)
    planned_requests: int = 0  # mutation requests sent, or in a dry run to be sent
    requests: int = 0  # every HTTP request, reads and polls included
    bytes_sent: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.rejections.total

    def as_dict(self) -> dict[str, object]:
        return {
            "vendor_id": self.vendor_id,
            "mode": self.mode,
            "requested_mode": self.requested_mode,
            "dry_run": self.dry_run,
            "created": self.created,
            "entries": self.entries,
            "valid": self.valid,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "invalid": self.rejections.as_dict(),
            "added": self.added,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "user_count": self.user_count,
            "mutation_requests": self.planned_requests,
            "requests": self.requests,
            "bytes_sent": self.bytes_sent,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }
