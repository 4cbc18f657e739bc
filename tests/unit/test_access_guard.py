"""The access checks in order: 401, 403 FORBIDDEN, 403 FEATURE_NOT_ENABLED, 429."""

from __future__ import annotations

import pytest

from custom_audiences.errors import (
    FeatureNotEnabled,
    Forbidden,
    RateLimitExceeded,
    Unauthorized,
)
from custom_audiences.services import admin
from custom_audiences.services.access import AccessGuard
from custom_audiences.services.rate_limit import LimitsRateLimiter
from custom_audiences.store.memory import InMemoryStore


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


def tenant(store: InMemoryStore, *, feature: bool = True) -> tuple[str, str, str]:
    """(app_id, key_id, token) of a fresh account."""
    features = frozenset({"custom-audiences"}) if feature else frozenset()
    account = admin.create_account(store, "A", features)
    app = admin.create_app(store, account.id, "app")
    issued = admin.create_api_key(store, app.id, "k")
    return app.id, issued.key.id, issued.token


def guard(store: InMemoryStore, rate: str = "2/minute") -> AccessGuard:
    return AccessGuard(store, LimitsRateLimiter(rate))


def test_a_valid_key_on_its_app_passes_and_is_counted(store: InMemoryStore) -> None:
    """No error, and the rate standing comes back."""
    app_id, _, token = tenant(store)
    decision = guard(store).check([f"Bearer {token}"], app_id)
    assert decision.error is None
    assert decision.rate is not None
    assert decision.rate.remaining == 1


@pytest.mark.parametrize("headers", [[], ["Bearer"], ["Basic abc"], ["Bearer a b"], ["x", "y"]])
def test_malformed_authorization_is_unauthorized_without_rate_standing(
    store: InMemoryStore, headers: list[str]
) -> None:
    """An unauthenticated caller learns nothing about any rate limit."""
    app_id, _, _ = tenant(store)
    decision = guard(store).check(headers, app_id)
    assert isinstance(decision.error, Unauthorized)
    assert decision.rate is None


def test_a_revoked_key_is_unauthorized(store: InMemoryStore) -> None:
    """Revocation is checked on every request."""
    app_id, key_id, token = tenant(store)
    admin.revoke_api_key(store, key_id)
    assert isinstance(guard(store).check([f"Bearer {token}"], app_id).error, Unauthorized)


def test_the_token_must_match_exactly(store: InMemoryStore) -> None:
    """A prefix or a case change of a valid token is not valid."""
    app_id, _, token = tenant(store)
    for wrong in (token[:-1], token.upper(), token + "x"):
        assert isinstance(guard(store).check([f"Bearer {wrong}"], app_id).error, Unauthorized)


def test_forbidden_then_feature_then_rate(store: InMemoryStore) -> None:
    """Each refusal in its place; refusals before the limit do not use it up."""
    app_id, _, token = tenant(store, feature=False)
    other_app, _, _ = tenant(store)
    checks = guard(store, "1/minute")
    forbidden = checks.check([f"Bearer {token}"], other_app)
    assert isinstance(forbidden.error, Forbidden)
    assert isinstance(checks.check([f"Bearer {token}"], app_id).error, FeatureNotEnabled)
    assert forbidden.rate is not None
    assert forbidden.rate.remaining == 1

    app_id, _, token = tenant(store)
    assert checks.check([f"Bearer {token}"], app_id).error is None
    refused = checks.check([f"Bearer {token}"], app_id)
    assert isinstance(refused.error, RateLimitExceeded)
    assert 1 <= refused.error.retry_after <= 60
