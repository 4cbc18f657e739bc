"""Request and response bodies as msgspec Structs: what is encoded, decoded and documented."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from custom_audiences.clock import format_timestamp
from custom_audiences.domain.audiences import Audience
from custom_audiences.services.audiences import AudiencePage
from custom_audiences.services.members import MemberListing
from custom_audiences.services.rate_limit import LimiterHealth

Timestamp = Annotated[
    str, Meta(description="UTC ISO 8601 with milliseconds, e.g. 2026-03-13T12:00:00.000Z")
]
UserIds = Annotated[
    list[str],
    Meta(
        description="User identifiers. Empty ones, ones over 255 characters and ones holding "
        "a control character are skipped and counted in skipped_count."
    ),
]
IdentifierTypeName = Literal["user_id", "anonymous_id"]
IdentifierTypeField = Annotated[str, Meta(extra_json_schema={"enum": ["user_id", "anonymous_id"]})]
StatusField = Annotated[str, Meta(extra_json_schema={"enum": ["ready", "processing", "failed"]})]


# -- requests -------------------------------------------------------------------------
class NewAudienceFields(Struct):
    vendor_id: Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.\-]+$")]
    name: Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]
    identifier_type: IdentifierTypeName = "user_id"


class CreateAudienceRequest(Struct):
    custom_audience: NewAudienceFields


class AddRemoveRequest(Struct):
    """``add`` and/or ``remove``; an absent field is UNSET, ``null`` is not an array."""

    add: UserIds | UnsetType = UNSET
    remove: UserIds | UnsetType = UNSET


class ReplaceRequest(Struct):
    users: UserIds | UnsetType = UNSET


# -- responses ------------------------------------------------------------------------
class JobResultBody(Struct):
    processed_count: int
    skipped_count: int
    error_count: int


class AudienceBody(Struct):
    id: str
    vendor_id: str
    name: str
    identifier_type: IdentifierTypeField
    user_count: int
    status: StatusField
    last_synced_at: Timestamp | None
    last_job_result: JobResultBody | None
    created_at: Timestamp
    updated_at: Timestamp


class AudienceResponse(Struct):
    custom_audience: AudienceBody


class PageMeta(Struct):
    page: int
    per_page: int
    total_count: int
    total_pages: int


class AudienceListResponse(Struct):
    custom_audiences: list[AudienceBody]
    meta: PageMeta


class UserListResponse(Struct):
    users: list[str]
    next_cursor: str | None
    has_more: bool
    warning: str | None


class ErrorBody(Struct):
    code: str
    messages: list[str]


class ErrorResponse(Struct):
    error: ErrorBody


class HealthResponse(Struct):
    status: Annotated[str, Meta(extra_json_schema={"enum": ["ok", "degraded"]})]
    #: Each dependency this process uses and its state: ``database`` and, when rate-limit
    #: counters are shared, ``redis`` (``ok`` or ``unavailable``).
    checks: dict[str, str]
    #: The dependencies that are not ``ok`` (requests are still served).
    degraded: list[str]
    #: Since the process started: rate-limit storage failures, and the requests served
    #: without a rate-limit check because of them.
    rate_limit_storage_failures: int
    rate_limit_unchecked_requests: int


# -- from the services' results -------------------------------------------------------
def audience_body(audience: Audience) -> AudienceBody:
    result = audience.last_job_result
    return AudienceBody(
        id=audience.id,
        vendor_id=audience.vendor_id,
        name=audience.name,
        identifier_type=audience.identifier_type.value,
        user_count=audience.user_count,
        status=audience.status.value,
        last_synced_at=format_timestamp(audience.last_synced_at),
        last_job_result=None
        if result is None
        else JobResultBody(result.processed_count, result.skipped_count, result.error_count),
        created_at=_timestamp(audience.created_at),
        updated_at=_timestamp(audience.updated_at),
    )


def _timestamp(moment: datetime) -> str:
    formatted = format_timestamp(moment)
    assert formatted is not None
    return formatted


def audience_response(audience: Audience) -> AudienceResponse:
    return AudienceResponse(audience_body(audience))


def audience_list_response(page: AudiencePage) -> AudienceListResponse:
    meta = PageMeta(page.page, page.per_page, page.total_count, page.total_pages)
    return AudienceListResponse([audience_body(a) for a in page.audiences], meta)


def user_list_response(listing: MemberListing) -> UserListResponse:
    return UserListResponse(listing.users, listing.next_cursor, listing.has_more, listing.warning)


def error_response(code: str, messages: list[str]) -> ErrorResponse:
    return ErrorResponse(ErrorBody(code, messages))


def health_response(limiter: LimiterHealth) -> HealthResponse:
    """The database answered; the status is ``degraded`` when the limiter's storage did not."""
    checks = {"database": "ok"}
    if limiter.dependency is not None:
        checks[limiter.dependency] = limiter.state
    degraded = [name for name, state in checks.items() if state != "ok"]
    return HealthResponse(
        status="degraded" if degraded else "ok",
        checks=checks,
        degraded=degraded,
        rate_limit_storage_failures=limiter.failures,
        rate_limit_unchecked_requests=limiter.unchecked_requests,
    )
