"""Shared fixtures: which engines are reachable, and whether their absence is a failure.

PostgreSQL and Redis suites run when their servers answer. Without them the suites are
skipped (and say so), unless ``CUSTOM_AUDIENCES_REQUIRE_SERVICES=1`` (set by CI), which
turns every such skip into a failure.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import psycopg
import pytest
from psycopg import sql

POSTGRES_URL = os.environ.get(
    "CUSTOM_AUDIENCES_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CUSTOM_AUDIENCES_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SERVICES_REQUIRED = os.environ.get("CUSTOM_AUDIENCES_REQUIRE_SERVICES") == "1"


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> str:
    """Return the URL of a reachable server, else skip (or fail when services are required)."""
    if _reachable(url, default_port):
        return url
    message = f"{name} is not reachable at {url}"
    if SERVICES_REQUIRED:
        pytest.fail(message + " and CUSTOM_AUDIENCES_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return require_service("PostgreSQL", POSTGRES_URL, 5432)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_service("Redis", REDIS_URL, 6379)


def url_with_search_path(url: str, schema: str) -> str:
    """The PostgreSQL URL with every connection working in ``schema``."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-c search_path={schema}")]
    return parts._replace(query=urlencode(query, quote_via=quote)).geturl()


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL into a fresh, empty schema of the test database, dropped with its content after."""
    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield url_with_search_path(postgres_url, schema)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
