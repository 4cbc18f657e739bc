"""The ``harness`` fixture: one store per engine (PostgreSQL in a schema of its own), the app
under each replace interval, and the workers the state machine drives by hand."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg import sql

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.store import open_store
from custom_audiences.store.base import Store
from custom_audiences.worker.runner import Worker

from .harness import REPLACE_INTERVALS, Harness, failing_worker

ENGINES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _in_schema(url: str, schema: str) -> str:
    """The URL with every connection's search_path set to ``schema``."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-c search_path={schema}")]
    return parts._replace(query=urlencode(query, quote_via=quote)).geturl()


@pytest.fixture
def postgres_model_url(postgres_url: str) -> Iterator[str]:
    schema = f"model_test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield _in_schema(postgres_url, schema)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _open(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if engine == "memory":
        return open_store("memory://")
    if engine == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'model.db'}")
    return open_store(request.getfixturevalue("postgres_model_url"))


@pytest.fixture(params=ENGINES)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    store = _open(request.param, request, tmp_path)
    store.upgrade()
    with ExitStack() as stack:
        clients = {
            interval: stack.enter_context(
                TestClient(
                    create_app(
                        Settings(
                            embedded_worker=False,
                            rate_limit="1000000/minute",
                            replace_interval_seconds=interval,
                        ),
                        store,
                    )
                )
            )
            for interval in REPLACE_INTERVALS
        }
        yield Harness(store, clients, Worker(store, worker_id="model"), failing_worker(store))
    store.close()
