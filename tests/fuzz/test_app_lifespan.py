"""The app survives being started again: schemathesis (like any ASGI test harness that
reuses an app) ends its lifespan after each test and starts it for the next."""

from __future__ import annotations

from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.store.memory import InMemoryStore


def test_the_app_starts_again_after_a_shutdown() -> None:
    """Three startups and shutdowns of one app, with and without the embedded worker."""
    for embedded in (False, True):
        app = create_app(Settings(embedded_worker=embedded), InMemoryStore())
        for _ in range(3):
            with TestClient(app) as client:
                assert client.get("/healthz").status_code == 200
