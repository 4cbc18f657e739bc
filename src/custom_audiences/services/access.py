"""Who may call the audience endpoints: the checks every request passes, in contract order.

Authentication (401), the key's access to the app (403 FORBIDDEN, also for apps that do
not exist), the account's feature (403 FEATURE_NOT_ENABLED), then the key's rate limit
(429). Tokens are never stored: the request's token is hashed, the store looks the key up
by that hash, and the guard confirms the match with ``hmac.compare_digest``. The secret
itself is never compared, so lookup timing can only hint at bits of a SHA-256 digest,
which does not help anyone forge a token.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from custom_audiences.domain.accounts import (
    CUSTOM_AUDIENCES_FEATURE,
    KeyAccess,
    hash_token,
    hashes_match,
)
from custom_audiences.errors import (
    ApiError,
    FeatureNotEnabled,
    Forbidden,
    RateLimitExceeded,
    Unauthorized,
)
from custom_audiences.services.rate_limit import RateLimiter, RateStatus
from custom_audiences.store.base import Store

# One scheme, one space, one token of visible ASCII: anything else is not a bearer token.
_BEARER = re.compile(r"Bearer ([\x21-\x7e]+)")


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """The outcome of the checks: an error to answer with, and the key's rate standing.

    ``rate`` is known as soon as the caller is authenticated, so that every authenticated
    response (errors included) can carry the rate-limit headers.
    """

    error: ApiError | None
    rate: RateStatus | None


class AccessGuard:
    def __init__(self, store: Store, limiter: RateLimiter) -> None:
        self._store = store
        self._limiter = limiter

    def check(self, authorization: list[str], app_id: str) -> AccessDecision:
        """Run the checks for a request with these ``Authorization`` header values."""
        try:
            access = self._authenticate(authorization)
        except Unauthorized as error:
            return AccessDecision(error, None)
        refusal = _refusal(access, app_id)
        if refusal is not None:
            return AccessDecision(refusal, self._limiter.peek(access.key_id))
        rate = self._limiter.hit(access.key_id)
        if not rate.allowed:
            exceeded = RateLimitExceeded(
                f"Rate limit exceeded: {rate.limit} requests per window for this API key",
                retry_after=rate.retry_after(time.time()),
            )
            return AccessDecision(exceeded, rate)
        return AccessDecision(None, rate)

    def _authenticate(self, authorization: list[str]) -> KeyAccess:
        if len(authorization) != 1:
            raise Unauthorized
        match = _BEARER.fullmatch(authorization[0])
        if match is None:
            raise Unauthorized
        presented = hash_token(match.group(1))
        access = self._store.find_key_access(presented)
        # The database finds the key by its hash; the match is confirmed in constant time, so
        # the decision never rests on how an engine compares text (collation, case folding).
        if access is None or not hashes_match(access.token_hash, presented):
            raise Unauthorized
        # A revoked key gets the same answer as an unknown one: nothing tells them apart.
        if access.revoked:
            raise Unauthorized
        return access


def _refusal(access: KeyAccess, app_id: str) -> ApiError | None:
    if access.app_id != app_id:
        return Forbidden()
    if CUSTOM_AUDIENCES_FEATURE not in access.account_features:
        return FeatureNotEnabled()
    return None
