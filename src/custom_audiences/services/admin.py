"""Operator use cases behind the admin CLI: accounts, features, apps and API keys."""

from __future__ import annotations

from dataclasses import dataclass

from custom_audiences.clock import new_id, utc_now
from custom_audiences.domain.accounts import (
    CUSTOM_AUDIENCES_FEATURE,
    KNOWN_FEATURES,
    Account,
    ApiKey,
    App,
    hash_token,
    new_token,
)
from custom_audiences.store.base import Store


class AdminError(Exception):
    """An operator command that cannot be carried out (unknown id, unknown feature)."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A newly created key and its token: the only time the token exists in clear."""

    key: ApiKey
    token: str


@dataclass(frozen=True, slots=True)
class DemoSetup:
    account: Account
    app: App
    issued: IssuedKey


def create_account(store: Store, name: str, features: frozenset[str] = frozenset()) -> Account:
    _check_features(features)
    account = Account(new_id("acct"), name, features, utc_now())
    store.add_account(account)
    return account


def set_feature(store: Store, account_id: str, feature: str, *, enabled: bool) -> Account:
    _check_features(frozenset({feature}))
    account = _require_account(store, account_id)
    features = account.features | {feature} if enabled else account.features - {feature}
    store.set_account_features(account_id, frozenset(features))
    return _require_account(store, account_id)


def create_app(store: Store, account_id: str, name: str) -> App:
    _require_account(store, account_id)
    app = App(new_id("app"), account_id, name, utc_now())
    store.add_app(app)
    return app


def create_api_key(store: Store, app_id: str, name: str) -> IssuedKey:
    if store.get_app(app_id) is None:
        raise AdminError(f"no app with id {app_id}")
    token = new_token()
    key = ApiKey(new_id("key"), app_id, name, hash_token(token), utc_now())
    store.add_api_key(key)
    return IssuedKey(key, token)


def list_api_keys(store: Store, app_id: str) -> list[ApiKey]:
    if store.get_app(app_id) is None:
        raise AdminError(f"no app with id {app_id}")
    return store.list_api_keys(app_id)


def revoke_api_key(store: Store, key_id: str) -> ApiKey:
    key = store.revoke_api_key(key_id, utc_now())
    if key is None:
        raise AdminError(f"no API key with id {key_id}")
    return key


def seed_demo(store: Store) -> DemoSetup | None:
    """On an empty database, create a demo account (feature on), app and key; else None."""
    if store.has_accounts():
        return None
    account = create_account(store, "Demo", frozenset({CUSTOM_AUDIENCES_FEATURE}))
    app = create_app(store, account.id, "Demo app")
    return DemoSetup(account, app, create_api_key(store, app.id, "demo"))


def _require_account(store: Store, account_id: str) -> Account:
    account = store.get_account(account_id)
    if account is None:
        raise AdminError(f"no account with id {account_id}")
    return account


def _check_features(features: frozenset[str]) -> None:
    unknown = features - KNOWN_FEATURES
    if unknown:
        raise AdminError(f"unknown feature: {', '.join(sorted(unknown))}")
