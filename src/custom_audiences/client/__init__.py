"""Python SDK for the Custom Audiences API (standalone: it imports nothing from the server).

    from custom_audiences.client import Client

    with Client("https://api.example.com", "app_xxxx", api_key) as client:
        client.create_audience("premium_users", "Premium Users")
        client.add_and_remove_users("premium_users", add=user_ids)  # split, waited for
        for user_id in client.iter_users("premium_users"):
            ...

``AsyncClient`` has the same methods, awaited. ``sync_audience`` makes an audience's
membership equal to a list of identifiers (``open_identifiers`` reads them from a text,
CSV or JSON Lines file) with as few requests as it can.
"""

from custom_audiences.client.async_client import AsyncClient
from custom_audiences.client.client import Client
from custom_audiences.client.encoding import MAX_BODY_BYTES
from custom_audiences.client.errors import (
    ApiError,
    AudienceNotFound,
    CannotArchiveWhileProcessing,
    CustomAudiencesError,
    EmptyPayload,
    FeatureNotEnabled,
    Forbidden,
    InternalError,
    InvalidJson,
    InvalidPayload,
    MethodNotAllowed,
    MutationFailed,
    MutationInProgress,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RequestHeadersTooLarge,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
    ValidationFailed,
    WaitTimeout,
)
from custom_audiences.client.flows import BatchSent
from custom_audiences.client.models import Audience, JobResult, UsersPage
from custom_audiences.client.retry import RetryPolicy
from custom_audiences.client.syncing.engine import (
    SyncInterrupted,
    SyncOptions,
    SyncRefused,
    sync_audience,
)
from custom_audiences.client.syncing.planning import SyncMode
from custom_audiences.client.syncing.report import SyncReport
from custom_audiences.client.syncing.sources import SourceError, SourceFormat, open_identifiers
from custom_audiences.client.transport import RequestStats

__all__ = [
    "MAX_BODY_BYTES",
    "ApiError",
    "AsyncClient",
    "Audience",
    "AudienceNotFound",
    "BatchSent",
    "CannotArchiveWhileProcessing",
    "Client",
    "CustomAudiencesError",
    "EmptyPayload",
    "FeatureNotEnabled",
    "Forbidden",
    "InternalError",
    "InvalidJson",
    "InvalidPayload",
    "JobResult",
    "MethodNotAllowed",
    "MutationFailed",
    "MutationInProgress",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RequestHeadersTooLarge",
    "RequestStats",
    "RetryPolicy",
    "ServiceUnavailable",
    "SourceError",
    "SourceFormat",
    "SyncInterrupted",
    "SyncMode",
    "SyncOptions",
    "SyncRefused",
    "SyncReport",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "UsersPage",
    "ValidationFailed",
    "WaitTimeout",
    "open_identifiers",
    "sync_audience",
]
