"""Shared fixtures: which engines are reachable, and whether their absence is a failure.

PostgreSQL and Redis suites run when their servers answer. Without them the suites are
skipped (and say so), unless ``CUSTOM_AUDIENCES_REQUIRE_SERVICES=1`` (set by CI), which
turns every such skip into a failure.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

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
