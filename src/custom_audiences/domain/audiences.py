"""Custom audiences: their fields, their states and the rules for creating one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from custom_audiences.errors import AudienceNotFound, ValidationFailed

MAX_FIELD_LENGTH = 255
VENDOR_ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,255}")
PAGE_SIZE = 25


class IdentifierType(StrEnum):
    USER_ID = "user_id"  #: the app's own user id (the default)
    ANONYMOUS_ID = "anonymous_id"  #: an anonymous device/user id


class AudienceStatus(StrEnum):
    READY = "ready"  #: idle, ready for mutations
    PROCESSING = "processing"  #: a mutation has been accepted and is not finished
    FAILED = "failed"  #: the last mutation failed; membership is as before it


@dataclass(frozen=True, slots=True)
class JobResult:
    """Summary of the last mutation, as shown in ``last_job_result``."""

    processed_count: int
    skipped_count: int
    error_count: int


@dataclass(frozen=True, slots=True)
class Audience:
    """A custom audience as stored; ``pk`` and ``generation`` never leave the server."""

    pk: int
    id: str
    app_id: str
    vendor_id: str
    name: str
    identifier_type: IdentifierType
    status: AudienceStatus
    user_count: int
    generation: int
    last_synced_at: datetime | None
    last_job_result: JobResult | None
    created_at: datetime
    updated_at: datetime
    last_replace_at: datetime | None = None
    archived_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewAudience:
    """A validated create request."""

    vendor_id: str
    name: str
    identifier_type: IdentifierType


def parse_new_audience(body: object) -> NewAudience:
    """Validate a decoded create body; one message per problem, naming the field."""
    if not isinstance(body, dict) or not isinstance(body.get("custom_audience"), dict):
        raise ValidationFailed("custom_audience is required and must be an object")
    fields = body["custom_audience"]
    problems: list[str] = []
    vendor_id = fields.get("vendor_id")
    if vendor_id is None:
        problems.append("vendor_id is required")
    elif not isinstance(vendor_id, str) or not VENDOR_ID_PATTERN.fullmatch(vendor_id):
        problems.append("vendor_id must be 1-255 characters of letters, digits, '_', '-' or '.'")
    name = fields.get("name")
    if name is None:
        problems.append("name is required")
    elif not isinstance(name, str) or not 1 <= len(name) <= MAX_FIELD_LENGTH:
        problems.append("name must be a string of 1-255 characters")
    elif "\x00" in name:
        # PostgreSQL text cannot hold U+0000; refused on every engine alike.
        problems.append("name must not contain the NUL character (U+0000)")
    identifier_type = fields.get("identifier_type", IdentifierType.USER_ID.value)
    if not isinstance(identifier_type, str) or identifier_type not in set(IdentifierType):
        problems.append("identifier_type must be one of: user_id, anonymous_id")
    if problems:
        raise ValidationFailed(*problems)
    assert isinstance(vendor_id, str)
    assert isinstance(name, str)
    return NewAudience(vendor_id, name, IdentifierType(identifier_type))


def require_possible_vendor_id(vendor_id: str) -> None:
    """Raise ``AudienceNotFound`` for a vendor_id no audience can have, before any lookup.

    Such a value (from a URL path) could only miss; PostgreSQL could not even compare it
    when it holds U+0000.
    """
    if VENDOR_ID_PATTERN.fullmatch(vendor_id) is None:
        raise AudienceNotFound
