"""The API tells workers in other processes about each accepted mutation, and only those."""

from __future__ import annotations

import threading
from collections.abc import Callable

from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.store.memory import InMemoryStore

from .conftest import Api, make_tenant


class RecordingWakeups:
    """Counts notifications; ``listen`` returns at once (no other process in these tests)."""

    def __init__(self) -> None:
        self.notified = 0
        self.closed = False

    def notify(self) -> None:
        self.notified += 1

    def listen(self, wake: Callable[[], None], stop: threading.Event) -> None:
        return None

    def close(self) -> None:
        self.closed = True


def test_each_accepted_mutation_notifies_and_shutdown_closes() -> None:
    """202s notify once each; refused mutations (409, 422) and reads do not; close at exit."""
    store, wakeups = InMemoryStore(), RecordingWakeups()
    app = create_app(Settings(embedded_worker=False), store, wakeups=wakeups)
    with TestClient(app) as client:
        api = Api(client, make_tenant(store))
        api.create("aud")
        assert api.post("/aud/users", json={"add": ["a"]}).status_code == 202
        assert api.post("/aud/users", json={"add": ["b"]}).status_code == 409
        assert api.post("/aud/users", json={"add": []}).status_code == 422
        api.get("/aud")
        assert wakeups.notified == 1
        assert not wakeups.closed
    assert wakeups.closed
