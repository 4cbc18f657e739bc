"""Store contract: accounts, apps, API keys and the lookup that authorises a request."""

from __future__ import annotations

from datetime import timedelta

from custom_audiences.domain.accounts import ApiKey, App, KeyAccess
from custom_audiences.store.base import Store

from .conftest import NOW, add_app


def _key(key_id: str, app_id: str = "app_1", *, at_offset: int = 0) -> ApiKey:
    return ApiKey(
        key_id, app_id, f"key {key_id}", f"hash-{key_id}", NOW + timedelta(seconds=at_offset)
    )


def test_has_accounts_turns_true_with_the_first_account(store: Store) -> None:
    """An empty store has no accounts; one account is enough."""
    assert not store.has_accounts()
    add_app(store, "app_1")
    assert store.has_accounts()


def test_account_and_app_round_trip(store: Store) -> None:
    """Accounts and apps read back as written; unknown ids are None."""
    add_app(store, "app_1", "acct_1")
    account = store.get_account("acct_1")
    assert account is not None
    assert (account.name, account.features, account.created_at) == (
        "Account",
        frozenset({"custom-audiences"}),
        NOW,
    )
    assert store.get_app("app_1") == App("app_1", "acct_1", "App app_1", NOW)
    assert store.get_account("acct_missing") is None
    assert store.get_app("app_missing") is None


def test_set_account_features_replaces_the_set(store: Store) -> None:
    """Features are replaced as a whole, including with the empty set."""
    add_app(store, "app_1", "acct_1")
    store.set_account_features("acct_1", frozenset())
    account = store.get_account("acct_1")
    assert account is not None
    assert account.features == frozenset()


def test_list_api_keys_is_per_app_oldest_first(store: Store) -> None:
    """Keys are listed for their app only, by creation time then id."""
    add_app(store, "app_1")
    add_app(store, "app_2")
    for key in (_key("key_b"), _key("key_c", at_offset=-1), _key("key_a"), _key("key_x", "app_2")):
        store.add_api_key(key)
    assert [k.id for k in store.list_api_keys("app_1")] == ["key_c", "key_a", "key_b"]
    assert store.list_api_keys("app_2") == [_key("key_x", "app_2")]


def test_revoke_is_idempotent_and_keeps_the_first_time(store: Store) -> None:
    """Revoking twice keeps the first revocation time; an unknown key gives None."""
    add_app(store, "app_1")
    store.add_api_key(_key("key_a"))
    first = store.revoke_api_key("key_a", NOW + timedelta(minutes=1))
    again = store.revoke_api_key("key_a", NOW + timedelta(minutes=2))
    assert first is not None
    assert again is not None
    assert first.revoked_at == again.revoked_at == NOW + timedelta(minutes=1)
    assert store.list_api_keys("app_1")[0].revoked_at == NOW + timedelta(minutes=1)
    assert store.revoke_api_key("key_missing", NOW) is None


def test_find_key_access_joins_key_app_and_features(store: Store) -> None:
    """A token hash finds its key, app, revocation state and the account's current features."""
    add_app(store, "app_1", "acct_1")
    store.add_api_key(_key("key_a"))
    expected = KeyAccess("key_a", "app_1", False, frozenset({"custom-audiences"}), "hash-key_a")
    assert store.find_key_access("hash-key_a") == expected
    store.set_account_features("acct_1", frozenset())
    store.revoke_api_key("key_a", NOW)
    revoked = KeyAccess("key_a", "app_1", True, frozenset(), "hash-key_a")
    assert store.find_key_access("hash-key_a") == revoked
    assert store.find_key_access("hash-unknown") is None
