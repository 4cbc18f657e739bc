"""The SDK and the sync engine against the real application, in process.

The app runs without its embedded worker; the client's injected sleep applies the queued
jobs instead (``Worker.run_once``), so waiting is deterministic and takes no real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.client import (
    AudienceNotFound,
    Client,
    MutationInProgress,
    RateLimited,
    RetryPolicy,
    Unauthorized,
    UsersPage,
    ValidationFailed,
)
from custom_audiences.client.syncing.engine import SyncOptions, sync_audience
from custom_audiences.client.syncing.planning import SyncMode
from custom_audiences.config import Settings
from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
from custom_audiences.services import admin
from custom_audiences.store.memory import InMemoryStore
from custom_audiences.worker.runner import Worker


@dataclass
class RealApp:
    http: TestClient  # type: ignore[type-arg]
    app_id: str
    token: str
    worker: Worker
    sleeps: list[float]

    def client(self, token: str | None = None, **options: object) -> Client:
        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            self.worker.run_once()

        options.setdefault("retry", RetryPolicy(jitter=lambda: 0.5))
        return Client(
            "http://testserver.local",
            self.app_id,
            token or self.token,
            http_client=self.http,
            sleep=sleep,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def real() -> Iterator[RealApp]:
    store = InMemoryStore()
    store.upgrade()
    account = admin.create_account(store, "Acme", frozenset({CUSTOM_AUDIENCES_FEATURE}))
    app = admin.create_app(store, account.id, "Acme app")
    issued = admin.create_api_key(store, app.id, "sdk")
    settings = Settings(embedded_worker=False, rate_limit="100000/minute")
    with TestClient(create_app(settings, store)) as http:
        yield RealApp(http, app.id, issued.token, Worker(store, worker_id="sdk-tests"), [])
    store.close()


def test_every_method_against_the_real_app(real: RealApp) -> None:
    """Create, list, get, add/remove, list users, replace, clear, delete through the SDK."""
    client = real.client()
    created = client.create_audience("premium_users", "Premium Users")
    assert created.is_ready
    assert created.id.startswith("caud_")
    assert [a.vendor_id for a in client.list_audiences()] == ["premium_users"]
    audience = client.add_and_remove_users("premium_users", add=["u3", "u1", "u2"], remove=["u2"])
    assert audience.user_count == 2
    assert audience.last_job_result is not None
    assert audience.last_job_result.processed_count == 3
    assert client.list_users("premium_users", limit=1) == UsersPage(("u1",), "u1", True, None)
    assert list(client.iter_users("premium_users", page_size=1)) == ["u1", "u3"]
    assert client.replace_users("premium_users", ["r1", "r2"]).user_count == 2
    assert client.clear_users("premium_users").user_count == 0
    assert client.get_audience("premium_users").is_ready
    assert client.delete_audience("premium_users").vendor_id == "premium_users"
    with pytest.raises(AudienceNotFound):
        client.get_audience("premium_users")


def test_real_errors_map_to_sdk_classes(real: RealApp) -> None:
    """The real server's 401, 404, 409, 422 and 429 raise the matching SDK classes."""
    client = real.client()
    with pytest.raises(Unauthorized):
        real.client(token="ca_wrong").get_audience("x")
    with pytest.raises(AudienceNotFound):
        client.get_audience("missing")
    client.create_audience("aud", "Aud")
    with pytest.raises(ValidationFailed):
        client.create_audience("aud", "Again")
    with pytest.raises(ValidationFailed):
        client.create_audience("bad id!", "Bad")
    client.replace_users("aud", ["a"])
    with pytest.raises(RateLimited) as caught:
        client.replace_users("aud", ["b"])
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 3600
    impatient = real.client(retry=RetryPolicy(max_conflict_waits=0))
    impatient.add_and_remove_users("aud", add=["c"], wait=False)
    with pytest.raises(MutationInProgress):
        impatient.add_and_remove_users("aud", add=["d"], wait=False)


def test_conflict_is_waited_out_against_the_real_app(real: RealApp) -> None:
    """A 409 from the real server is waited out (the worker runs in the sleep), then applied."""
    client = real.client()
    client.create_audience("aud", "Aud")
    client.add_and_remove_users("aud", add=["first"], wait=False)
    assert client.add_and_remove_users("aud", add=["second"]).user_count == 2


def test_split_mutation_against_the_real_app(real: RealApp) -> None:
    """A mutation split in several requests is applied whole by the real server."""
    client = real.client(max_body_bytes=50_000)
    client.create_audience("aud", "Aud")
    users = [f"user_{n:06d}" for n in range(12_000)]  # 14 bytes each: four requests
    client.add_and_remove_users("aud", add=users)
    assert client.stats.mutations == 5  # the create and four bodies
    assert list(client.iter_users("aud")) == users


def test_sync_converges_against_the_real_app(real: RealApp) -> None:
    """A diff sync then a replace sync leave exactly the wanted members on the real server."""
    client = real.client()
    first = sync_audience(client, "aud", ["a", "b", "c"], SyncOptions(create_name="Aud"))
    assert first.created
    assert first.added == 3
    second = sync_audience(client, "aud", ["b", "c", "d", "\x07"], SyncOptions(mode=SyncMode.DIFF))
    assert (second.added, second.removed, second.unchanged, second.skipped) == (1, 1, 2, 1)
    assert list(client.iter_users("aud")) == ["b", "c", "d"]
    third = sync_audience(client, "aud", ["x"], SyncOptions(mode=SyncMode.REPLACE))
    assert third.mode == "replace"
    fourth = sync_audience(client, "aud", ["y"], SyncOptions(mode=SyncMode.REPLACE))
    assert fourth.mode == "diff"  # the 12-hour window refused the replace
    assert list(client.iter_users("aud")) == ["y"]
