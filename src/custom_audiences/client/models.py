"""Typed, immutable views of the API's responses, and decoding them from JSON."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import msgspec

from custom_audiences.client.errors import UnexpectedResponse

READY = "ready"
PROCESSING = "processing"
FAILED = "failed"


class JobResult(msgspec.Struct, frozen=True):
    """Summary of an audience's last mutation (``last_job_result``)."""

    processed_count: int
    skipped_count: int
    error_count: int


class Audience(msgspec.Struct, frozen=True):
    """A custom audience; ``status`` is ``ready``, ``processing`` or ``failed``."""

    id: str
    vendor_id: str
    name: str
    identifier_type: str
    user_count: int
    status: str
    last_synced_at: datetime | None
    last_job_result: JobResult | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_ready(self) -> bool:
        return self.status == READY

    @property
    def is_processing(self) -> bool:
        return self.status == PROCESSING

    @property
    def is_failed(self) -> bool:
        return self.status == FAILED


class UsersPage(msgspec.Struct, frozen=True):
    """One page of ``List users``; ``warning`` is set (and ``users`` empty) while processing."""

    users: tuple[str, ...]
    next_cursor: str | None
    has_more: bool
    warning: str | None = None


class PageMeta(msgspec.Struct, frozen=True):
    page: int
    per_page: int
    total_count: int
    total_pages: int


class AudienceEnvelope(msgspec.Struct, frozen=True):
    custom_audience: Audience


class AudienceListEnvelope(msgspec.Struct, frozen=True):
    custom_audiences: tuple[Audience, ...]
    meta: PageMeta | None = None


class ErrorBody(msgspec.Struct, frozen=True):
    code: str = ""
    messages: list[str] = msgspec.field(default_factory=list)


class ErrorEnvelope(msgspec.Struct, frozen=True):
    error: ErrorBody


T = TypeVar("T")


def decode(content: bytes, kind: type[T], *, status: int) -> T:
    """Decode a response body, turning any mismatch into ``UnexpectedResponse``."""
    try:
        return msgspec.json.decode(content, type=kind)
    except msgspec.DecodeError as exc:
        snippet = content[:200].decode("utf-8", "replace")
        raise UnexpectedResponse(
            f"HTTP {status}: cannot read the response as {kind.__name__} ({exc}): {snippet!r}",
            status=status,
        ) from exc


def decode_error(content: bytes) -> ErrorBody:
    """The error part of an error response; an unreadable body gives an empty one."""
    try:
        return msgspec.json.decode(content, type=ErrorEnvelope).error
    except msgspec.DecodeError:
        return ErrorBody()
