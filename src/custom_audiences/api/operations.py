"""The API's operations as data: what ``/openapi.json`` documents, route by route.

A test checks that this table and the app's routes match exactly, so a new route cannot
go undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from custom_audiences.api.schemas import (
    AddRemoveRequest,
    AudienceListResponse,
    AudienceResponse,
    CreateAudienceRequest,
    HealthResponse,
    ReplaceRequest,
    UserListResponse,
)
from custom_audiences.errors import (
    ApiError,
    AudienceNotFound,
    CannotArchiveWhileProcessing,
    EmptyPayload,
    FeatureNotEnabled,
    Forbidden,
    InternalError,
    InvalidJson,
    InvalidPayload,
    MutationInProgress,
    PayloadTooLarge,
    RateLimitExceeded,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)

AUDIENCES = "/client/mobile_applications/{app_id}/custom_audiences"
AUDIENCE = AUDIENCES + "/{vendor_id}"

#: Every authenticated operation can answer these, in this order of checks.
ACCESS_ERRORS: tuple[type[ApiError], ...] = (
    Unauthorized,
    Forbidden,
    FeatureNotEnabled,
    RateLimitExceeded,
    InternalError,
    ServiceUnavailable,
)
BODY_ERRORS: tuple[type[ApiError], ...] = (InvalidJson, PayloadTooLarge)
MUTATION_ERRORS: tuple[type[ApiError], ...] = (AudienceNotFound, MutationInProgress)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    status: int
    response: type[msgspec.Struct] | None
    request: type[msgspec.Struct] | None = None
    parameters: tuple[str, ...] = ()
    errors: tuple[type[ApiError], ...] = ()
    authenticated: bool = True
    description: str = ""


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post", AUDIENCES, "createCustomAudience", "Create a custom audience", 201,
        AudienceResponse, CreateAudienceRequest, ("app_id",),
        (*BODY_ERRORS, ValidationFailed),
        description="vendor_id must be unique among the app's active custom audiences.",
    ),
    Operation(
        "get", AUDIENCES, "listCustomAudiences", "List custom audiences", 200,
        AudienceListResponse, None, ("app_id", "page"), (ValidationFailed,),
        description="Active custom audiences, oldest first, 25 per page.",
    ),
    Operation(
        "get", AUDIENCE, "getCustomAudience", "Get a custom audience", 200,
        AudienceResponse, None, ("app_id", "vendor_id"), (AudienceNotFound,),
    ),
    Operation(
        "delete", AUDIENCE, "archiveCustomAudience", "Delete (archive) a custom audience", 200,
        AudienceResponse, None, ("app_id", "vendor_id"),
        (AudienceNotFound, CannotArchiveWhileProcessing),
        description="The audience disappears from the API; its data is retained.",
    ),
    Operation(
        "post", AUDIENCE + "/users", "addRemoveUsers", "Add and remove users", 202,
        AudienceResponse, AddRemoveRequest, ("app_id", "vendor_id"),
        (*BODY_ERRORS, *MUTATION_ERRORS, EmptyPayload, InvalidPayload),
        description="Asynchronous. An identifier both added and removed ends up removed.",
    ),
    Operation(
        "put", AUDIENCE + "/users/replace", "replaceUsers", "Replace all users", 202,
        AudienceResponse, ReplaceRequest, ("app_id", "vendor_id"),
        (*BODY_ERRORS, *MUTATION_ERRORS, EmptyPayload, InvalidPayload),
        description="Asynchronous. At most one accepted replace per audience every 12 hours "
        "(configurable); a refused replace does not count.",
    ),
    Operation(
        "delete", AUDIENCE + "/users/clear", "clearUsers", "Clear all users", 202,
        AudienceResponse, None, ("app_id", "vendor_id"), MUTATION_ERRORS,
        description="Asynchronous.",
    ),
    Operation(
        "get", AUDIENCE + "/users", "listUsers", "List users", 200,
        UserListResponse, None, ("app_id", "vendor_id", "cursor", "limit"),
        (AudienceNotFound, ValidationFailed),
        description="Byte-wise ascending identifiers. While a mutation is processing, `users` "
        "is empty and `warning` says so.",
    ),
    Operation(
        "get", "/healthz", "health", "Health check", 200, HealthResponse,
        errors=(ServiceUnavailable,), authenticated=False,
        description="200 when the server can reach its database; `status` is `degraded` (still "
        "200) when a dependency it can do without, Redis, is unavailable, and `degraded` names it.",
    ),
    Operation(
        "get", "/openapi.json", "openapi", "This OpenAPI document", 200, None,
        authenticated=False,
    ),
)  # fmt: skip
