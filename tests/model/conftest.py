"""The ``harness`` fixture: one store per engine (PostgreSQL in a schema of its own), the app
under each replace interval, and the workers the state machine drives by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.store import open_store
from custom_audiences.store.base import Store
from custom_audiences.worker.runner import Worker

from .harness import REPLACE_INTERVALS, Harness, failing_worker

ENGINES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _open(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if engine == "memory":
        return open_store("memory://")
    if engine == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'model.db'}")
    return open_store(request.getfixturevalue("postgres_schema_url"))


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
