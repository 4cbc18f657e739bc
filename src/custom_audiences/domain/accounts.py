"""Accounts, their apps and the API keys that open an app."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

CUSTOM_AUDIENCES_FEATURE = "custom-audiences"
KNOWN_FEATURES = frozenset({CUSTOM_AUDIENCES_FEATURE})
TOKEN_PREFIX = "ca_"  # noqa: S105 - a public prefix that makes leaked tokens greppable


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    features: frozenset[str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class App:
    id: str
    account_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored: only the SHA-256 of its token is kept."""

    id: str
    app_id: str
    name: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyAccess:
    """What authorising a request needs to know about a key, its app and account."""

    key_id: str
    app_id: str
    revoked: bool
    account_features: frozenset[str]
    #: The stored hash, so that the caller can confirm the match in constant time.
    token_hash: str


def new_token() -> str:
    """A fresh bearer token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token. Tokens carry 256 random bits, so a fast hash suffices."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hashes_match(expected: str, candidate: str) -> bool:
    """Constant-time comparison of two token hashes."""
    return hmac.compare_digest(expected.encode(), candidate.encode())
