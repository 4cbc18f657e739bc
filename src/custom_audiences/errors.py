"""The one error catalogue: every error the API can return, with its HTTP status and stable code.

Every error is rendered by a single handler (``api/errors.py``) into
``{"error": {"code": CODE, "messages": [...]}}``. The hierarchy::

    ApiError
    ├── Unauthorized                    401 UNAUTHORIZED
    ├── Forbidden                       403 FORBIDDEN
    ├── FeatureNotEnabled               403 FEATURE_NOT_ENABLED
    ├── AudienceNotFound                404 CUSTOM_AUDIENCE_NOT_FOUND
    ├── RouteNotFound                   404 NOT_FOUND
    ├── MethodNotAllowed                405 METHOD_NOT_ALLOWED
    ├── InvalidJson                     400 INVALID_JSON
    ├── MutationInProgress              409 MUTATION_IN_PROGRESS
    ├── CannotArchiveWhileProcessing    409 CANNOT_ARCHIVE_WHILE_PROCESSING
    ├── PayloadTooLarge                 413 PAYLOAD_TOO_LARGE
    ├── RequestHeadersTooLarge          431 REQUEST_HEADERS_TOO_LARGE  (sent by the HTTP server)
    ├── RequestTimeout                  408 REQUEST_TIMEOUT  (sent by the HTTP server)
    ├── ValidationFailed                422 VALIDATION_FAILED
    ├── EmptyPayload                    422 EMPTY_PAYLOAD
    ├── InvalidPayload                  422 INVALID_PAYLOAD
    ├── RateLimitExceeded               429 RATE_LIMIT_EXCEEDED  (carries retry_after)
    ├── InternalError                   500 INTERNAL_ERROR
    └── ServiceUnavailable              503 SERVICE_UNAVAILABLE

The class docstring is the default message.
"""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    """An error of the public API."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, *messages: str) -> None:
        self.messages: list[str] = list(messages) or [self.default_message()]
        super().__init__("; ".join(self.messages))

    @classmethod
    def default_message(cls) -> str:
        return (cls.__doc__ or cls.code).strip()

    def headers(self) -> dict[str, str]:
        """Extra response headers this error carries."""
        return {}


class Unauthorized(ApiError):
    """Missing or invalid API key"""

    status = 401
    code = "UNAUTHORIZED"


class Forbidden(ApiError):
    """API key does not have access to this application"""

    status = 403
    code = "FORBIDDEN"


class FeatureNotEnabled(ApiError):
    """Custom audiences feature is not enabled for this account"""

    status = 403
    code = "FEATURE_NOT_ENABLED"


class AudienceNotFound(ApiError):
    """No custom audience found with this vendor_id"""

    status = 404
    code = "CUSTOM_AUDIENCE_NOT_FOUND"


class RouteNotFound(ApiError):
    """No such route"""

    status = 404
    code = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    """Method not allowed on this route"""

    status = 405
    code = "METHOD_NOT_ALLOWED"


class InvalidJson(ApiError):
    """Request body is not valid JSON"""

    status = 400
    code = "INVALID_JSON"


class MutationInProgress(ApiError):
    """A mutation is already running for this custom audience"""

    status = 409
    code = "MUTATION_IN_PROGRESS"


class CannotArchiveWhileProcessing(ApiError):
    """Cannot delete a custom audience while a mutation is processing"""

    status = 409
    code = "CANNOT_ARCHIVE_WHILE_PROCESSING"


class PayloadTooLarge(ApiError):
    """Request body exceeds 10 MB"""

    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RequestHeadersTooLarge(ApiError):
    """Request line and headers are too large"""

    status = 431
    code = "REQUEST_HEADERS_TOO_LARGE"


class RequestTimeout(ApiError):
    """The request was not received in time"""

    status = 408
    code = "REQUEST_TIMEOUT"


class ValidationFailed(ApiError):
    """Missing or invalid required fields"""

    status = 422
    code = "VALIDATION_FAILED"


class EmptyPayload(ApiError):
    """No users provided in the mutation request"""

    status = 422
    code = "EMPTY_PAYLOAD"


class InvalidPayload(ApiError):
    """add, remove, or users must be arrays of strings"""

    status = 422
    code = "INVALID_PAYLOAD"


class RateLimitExceeded(ApiError):
    """Rate limit exceeded"""

    status = 429
    code = "RATE_LIMIT_EXCEEDED"

    def __init__(self, *messages: str, retry_after: int) -> None:
        super().__init__(*messages)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InternalError(ApiError):
    """Internal server error"""

    status = 500
    code = "INTERNAL_ERROR"


class ServiceUnavailable(ApiError):
    """The service is temporarily unavailable; retry later"""

    status = 503
    code = "SERVICE_UNAVAILABLE"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}
