"""Which identifiers a sync sends, and the report of those it refuses (by reason, with samples).

The rule is the API's: an identifier that is empty, longer than 255 characters or holds a
control character (Unicode category Cc) would be skipped by the server, so it is never sent.
Reading a source adds reasons of its own (bad UTF-8, a JSON value that is not a string...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_IDENTIFIER_LENGTH = 255
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")

EMPTY = "empty"
TOO_LONG = "too_long"
CONTROL_CHARACTER = "control_character"
INVALID_UTF8 = "invalid_utf8"
INVALID_JSON = "invalid_json"
NOT_A_STRING = "not_a_string"
MISSING_COLUMN = "missing_column"

SAMPLE_LENGTH = 60


def rejection_reason(identifier: str) -> str | None:
    """Why the API would skip this identifier, or None when it is valid."""
    if not identifier:
        return EMPTY
    if len(identifier) > MAX_IDENTIFIER_LENGTH:
        return TOO_LONG
    # isprintable() is one C pass and true for nearly every real id; only when it is false
    # (controls, but also e.g. U+00A0, which is valid) does the exact Cc test run.
    if not identifier.isprintable() and _CONTROL_CHARACTER.search(identifier):
        return CONTROL_CHARACTER
    return None


def checked(identifier: str, line: int) -> str | Rejected:
    """The identifier itself when the API would accept it, else why not."""
    if not identifier.isascii():
        try:
            identifier.encode("utf-8")
        except UnicodeEncodeError:
            shown = identifier.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return Rejected(INVALID_UTF8, line, shown)
    reason = rejection_reason(identifier)
    return identifier if reason is None else Rejected(reason, line, identifier)


def is_plainly_valid(identifier: str) -> bool:
    """A fast test that accepts nearly every valid identifier (``checked`` decides the rest)."""
    return 0 < len(identifier) <= MAX_IDENTIFIER_LENGTH and identifier.isprintable()


@dataclass(frozen=True, slots=True)
class Rejected:
    """An entry of the source that will not be sent, and where it was."""

    reason: str
    line: int
    value: str


@dataclass(slots=True)
class Rejections:
    """Counts per reason, and the first few samples of each."""

    samples_per_reason: int = 3
    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[Rejected]] = field(default_factory=dict)

    def add(self, rejected: Rejected) -> None:
        self.counts[rejected.reason] = self.counts.get(rejected.reason, 0) + 1
        kept = self.samples.setdefault(rejected.reason, [])
        if len(kept) < self.samples_per_reason:
            kept.append(Rejected(rejected.reason, rejected.line, shorten(rejected.value)))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, object]:
        return {
            reason: {
                "count": count,
                "samples": [{"line": s.line, "value": s.value} for s in self.samples[reason]],
            }
            for reason, count in sorted(self.counts.items())
        }


def shorten(value: str) -> str:
    """A sample short enough for a report line."""
    return value if len(value) <= SAMPLE_LENGTH else value[:SAMPLE_LENGTH] + "…"
