"""The SDK's exceptions: one class per error code of the API, under one common base.

::

    CustomAudiencesError
    ├── TransportError                  the server could not be reached, or the exchange broke
    ├── UnexpectedResponse              a response the SDK cannot read (not the API's format)
    ├── WaitTimeout                     ``wait_until_ready`` gave up (carries the last audience)
    ├── MutationFailed                  the mutation job ended ``failed`` (carries the audience)
    └── ApiError(status, code, messages)
        ├── Unauthorized                401 UNAUTHORIZED
        ├── Forbidden                   403 FORBIDDEN
        ├── FeatureNotEnabled           403 FEATURE_NOT_ENABLED
        ├── AudienceNotFound            404 CUSTOM_AUDIENCE_NOT_FOUND
        ├── NotFound                    404 NOT_FOUND
        ├── MethodNotAllowed            405 METHOD_NOT_ALLOWED
        ├── InvalidJson                 400 INVALID_JSON
        ├── MutationInProgress          409 MUTATION_IN_PROGRESS
        ├── CannotArchiveWhileProcessing 409 CANNOT_ARCHIVE_WHILE_PROCESSING
        ├── PayloadTooLarge             413 PAYLOAD_TOO_LARGE
        ├── RequestHeadersTooLarge      431 REQUEST_HEADERS_TOO_LARGE
        ├── ValidationFailed            422 VALIDATION_FAILED
        ├── EmptyPayload                422 EMPTY_PAYLOAD
        ├── InvalidPayload              422 INVALID_PAYLOAD
        ├── RateLimited                 429 RATE_LIMIT_EXCEEDED (carries ``retry_after``)
        ├── InternalError               500 INTERNAL_ERROR
        └── ServiceUnavailable          503 SERVICE_UNAVAILABLE

A response whose code the SDK does not know becomes the class its HTTP status maps to
(e.g. any 429 is ``RateLimited``, any other 5xx a plain ``ApiError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from custom_audiences.client.models import Audience


class CustomAudiencesError(Exception):
    """Base of every error the SDK raises."""


class TransportError(CustomAudiencesError):
    """The server could not be reached, or the connection broke before a full response."""


class UnexpectedResponse(CustomAudiencesError):
    """The server answered something that is not the API's format."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class WaitTimeout(CustomAudiencesError):
    """The audience was still processing when the wait ran out of time."""

    def __init__(self, audience: Audience, waited: float) -> None:
        super().__init__(
            f"custom audience {audience.vendor_id!r} still {audience.status} after {waited:.0f} s"
        )
        self.audience = audience


class MutationFailed(CustomAudiencesError):
    """The mutation job ended ``failed``; the membership is as it was before the job."""

    def __init__(self, audience: Audience) -> None:
        super().__init__(f"the last mutation of custom audience {audience.vendor_id!r} failed")
        self.audience = audience


class ApiError(CustomAudiencesError):
    """An error response of the API: ``{"error": {"code": ..., "messages": [...]}}``."""

    #: The code this class stands for; ``code`` on an instance is the one actually received.
    CODE: ClassVar[str] = ""

    def __init__(self, status: int, code: str, messages: list[str]) -> None:
        super().__init__(f"{status} {code}: {'; '.join(messages) or 'no message'}")
        self.status = status
        self.code = code
        self.messages = messages


class Unauthorized(ApiError):
    """Missing or invalid API key."""

    CODE = "UNAUTHORIZED"


class Forbidden(ApiError):
    """The API key does not have access to this application."""

    CODE = "FORBIDDEN"


class FeatureNotEnabled(ApiError):
    """The custom-audiences feature is not enabled for this account."""

    CODE = "FEATURE_NOT_ENABLED"


class AudienceNotFound(ApiError):
    """No active custom audience has this vendor_id."""

    CODE = "CUSTOM_AUDIENCE_NOT_FOUND"


class NotFound(ApiError):
    """No such route (check the base URL)."""

    CODE = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    """The route does not accept this HTTP method."""

    CODE = "METHOD_NOT_ALLOWED"


class InvalidJson(ApiError):
    """The request body was not valid JSON."""

    CODE = "INVALID_JSON"


class MutationInProgress(ApiError):
    """A mutation is already running for this custom audience."""

    CODE = "MUTATION_IN_PROGRESS"


class CannotArchiveWhileProcessing(ApiError):
    """The audience cannot be deleted while a mutation is processing."""

    CODE = "CANNOT_ARCHIVE_WHILE_PROCESSING"


class PayloadTooLarge(ApiError):
    """The request body exceeds the server's limit."""

    CODE = "PAYLOAD_TOO_LARGE"


class RequestHeadersTooLarge(ApiError):
    """The request line and headers are too large."""

    CODE = "REQUEST_HEADERS_TOO_LARGE"


class ValidationFailed(ApiError):
    """Missing or invalid fields (one message per problem)."""

    CODE = "VALIDATION_FAILED"


class EmptyPayload(ApiError):
    """The mutation request holds no users."""

    CODE = "EMPTY_PAYLOAD"


class InvalidPayload(ApiError):
    """add, remove or users are not arrays of strings."""

    CODE = "INVALID_PAYLOAD"


class RateLimited(ApiError):
    """Too many requests (per API key, or one replace per audience per 12 hours)."""

    CODE = "RATE_LIMIT_EXCEEDED"

    def __init__(
        self, status: int, code: str, messages: list[str], *, retry_after: float | None = None
    ) -> None:
        super().__init__(status, code, messages)
        #: Seconds the server asked to wait (``Retry-After``), None when it did not say.
        self.retry_after = retry_after


class InternalError(ApiError):
    """The server failed; the body carries no detail."""

    CODE = "INTERNAL_ERROR"


class ServiceUnavailable(ApiError):
    """The server cannot reach its database right now."""

    CODE = "SERVICE_UNAVAILABLE"


_BY_CODE: dict[str, type[ApiError]] = {
    cls.CODE: cls
    for cls in (
        Unauthorized,
        Forbidden,
        FeatureNotEnabled,
        AudienceNotFound,
        NotFound,
        MethodNotAllowed,
        InvalidJson,
        MutationInProgress,
        CannotArchiveWhileProcessing,
        PayloadTooLarge,
        RequestHeadersTooLarge,
        ValidationFailed,
        EmptyPayload,
        InvalidPayload,
        RateLimited,
        InternalError,
        ServiceUnavailable,
    )
}
# The public API text documents 429 without a code, so the status alone must suffice.
_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidJson,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    429: RateLimited,
    431: RequestHeadersTooLarge,
    500: InternalError,
    503: ServiceUnavailable,
}


def error_for(
    status: int, code: str, messages: list[str], *, retry_after: float | None = None
) -> ApiError:
    """The exception for an error response: by code, else by status, else ``ApiError``."""
    if status == 429:
        return RateLimited(status, code, messages, retry_after=retry_after)
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status, ApiError)
    if cls is RateLimited:  # a RATE_LIMIT_EXCEEDED code on another status: keep the status
        cls = ApiError
    return cls(status, code, messages)
