"""Add/remove, replace and clear: 202 at once, applied by the worker, one at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.clock import utc_now
from custom_audiences.config import Settings
from custom_audiences.store.base import Store
from custom_audiences.worker.runner import Worker

from .conftest import Api, error_of, make_tenant


@pytest.fixture
def audience(api: Api) -> str:
    """A fresh audience's vendor_id."""
    return str(api.create("premium_users")["vendor_id"])


def test_add_remove_is_accepted_then_applied_by_the_worker(
    api: Api, worker: Worker, audience: str
) -> None:
    """202 with status processing; after the job: ready, counts, last sync time."""
    response = api.post(f"/{audience}/users", json={"add": ["u1", "u2", "u3"]})
    assert response.status_code == 202
    accepted = response.json()["custom_audience"]
    assert (accepted["status"], accepted["user_count"]) == ("processing", 0)
    assert worker.run_once()
    done = api.audience(audience)
    assert (done["status"], done["user_count"]) == ("ready", 3)
    assert done["last_job_result"] == {"processed_count": 3, "skipped_count": 0, "error_count": 0}
    assert done["last_synced_at"] is not None
    assert api.members(audience) == ["u1", "u2", "u3"]


def test_user_count_shows_the_membership_before_a_pending_job(
    api: Api, worker: Worker, audience: str
) -> None:
    """While a job waits, user_count is still the count List users would return."""
    api.post(f"/{audience}/users", json={"add": ["u1", "u2"]})
    worker.run_once()
    api.post(f"/{audience}/users", json={"add": ["u3"], "remove": ["u1", "u2"]})
    assert api.audience(audience)["user_count"] == 2
    worker.run_once()
    assert api.audience(audience)["user_count"] == 1


def test_an_identifier_both_added_and_removed_ends_up_removed(
    api: Api, worker: Worker, audience: str
) -> None:
    """Overlap resolves to removal, for new and existing members alike."""
    api.post(f"/{audience}/users", json={"add": ["keep", "old"]})
    worker.run_once()
    api.post(f"/{audience}/users", json={"add": ["old", "new", "both"], "remove": ["old", "both"]})
    worker.run_once()
    assert api.members(audience) == ["keep", "new"]


def test_counts_of_processed_and_skipped_identifiers(
    api: Api, worker: Worker, audience: str
) -> None:
    """Invalid ids are skipped; duplicates count once; no-op adds/removes still count."""
    api.post(f"/{audience}/users", json={"add": ["a", "b"]})
    worker.run_once()
    invalid = ["", "x" * 256, "nul\u0000", "tab\t", "del\x7f", "c1\x85"]
    body = {"add": ["a", "c", "c", *invalid], "remove": ["zz", "b", ""]}
    api.post(f"/{audience}/users", json=body)
    worker.run_once()
    result = api.audience(audience)["last_job_result"]
    # a (already a member), c, zz (not a member), b: four distinct valid identifiers.
    assert result == {"processed_count": 4, "skipped_count": 7, "error_count": 0}
    assert api.members(audience) == ["a", "c"]


def test_identifiers_are_stored_exactly_as_sent(api: Api, worker: Worker, audience: str) -> None:
    """No trimming, no case folding; 255 characters and non-ASCII are fine."""
    ids = [" padded ", "MiXeD", "mixed", "é", "x" * 255, "😀", "nbsp\u00a0"]
    api.post(f"/{audience}/users", json={"add": ids})
    worker.run_once()
    assert sorted(api.members(audience)) == sorted(ids)
    assert api.audience(audience)["last_job_result"]["skipped_count"] == 0


def test_a_request_of_only_invalid_identifiers_is_accepted_and_skips_them(
    api: Api, worker: Worker, audience: str
) -> None:
    """Users were provided, so it is not EMPTY_PAYLOAD; all are skipped."""
    assert api.post(f"/{audience}/users", json={"add": ["", "\u0001"]}).status_code == 202
    worker.run_once()
    result = api.audience(audience)["last_job_result"]
    assert result == {"processed_count": 0, "skipped_count": 2, "error_count": 0}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/users", {"add": ["x"]}),
        ("PUT", "/users/replace", {"users": ["x"]}),
        ("DELETE", "/users/clear", None),
    ],
)
def test_a_second_mutation_while_one_is_pending_is_409(
    api: Api, worker: Worker, audience: str, method: str, path: str, body: object
) -> None:
    """MUTATION_IN_PROGRESS for every kind; allowed again once the job is done."""
    assert api.post(f"/{audience}/users", json={"add": ["u"]}).status_code == 202
    response = api.request(method, f"/{audience}{path}", json=body)
    assert error_of(response) == (409, "MUTATION_IN_PROGRESS")
    worker.run_once()
    assert api.request(method, f"/{audience}{path}", json=body).status_code == 202


def test_replace_sets_the_membership_to_exactly_the_list(
    api: Api, worker: Worker, audience: str
) -> None:
    """Old members go, new ones come, duplicates collapse."""
    api.post(f"/{audience}/users", json={"add": ["old1", "old2", "both"]})
    worker.run_once()
    response = api.put(f"/{audience}/users/replace", json={"users": ["both", "new", "new", ""]})
    assert response.status_code == 202
    assert response.json()["custom_audience"]["status"] == "processing"
    worker.run_once()
    assert api.members(audience) == ["both", "new"]
    done = api.audience(audience)
    assert done["user_count"] == 2
    assert done["last_job_result"]["skipped_count"] == 1


def test_a_second_replace_within_the_interval_is_429(
    api: Api, worker: Worker, audience: str
) -> None:
    """RATE_LIMIT_EXCEEDED with a Retry-After of about twelve hours."""
    assert api.put(f"/{audience}/users/replace", json={"users": ["a"]}).status_code == 202
    worker.run_once()
    response = api.put(f"/{audience}/users/replace", json={"users": ["b"]})
    assert error_of(response) == (429, "RATE_LIMIT_EXCEEDED")
    assert 43_000 < int(response.headers["retry-after"]) <= 43_200
    assert "x-ratelimit-remaining" in response.headers
    assert api.audience(audience)["status"] == "ready"


def test_add_remove_and_clear_have_no_interval(api: Api, worker: Worker, audience: str) -> None:
    """Only replace is limited: the others can follow each other at once."""
    for _ in range(2):
        assert api.post(f"/{audience}/users", json={"add": ["a"]}).status_code == 202
        worker.run_once()
        assert api.delete(f"/{audience}/users/clear").status_code == 202
        worker.run_once()


def test_refused_replaces_do_not_count_toward_the_interval(
    api: Api, worker: Worker, audience: str
) -> None:
    """A replace refused with 409 or 422 leaves the next replace allowed."""
    api.post(f"/{audience}/users", json={"add": ["a"]})
    assert error_of(api.put(f"/{audience}/users/replace", json={"users": ["b"]}))[0] == 409
    worker.run_once()
    assert error_of(api.put(f"/{audience}/users/replace", json={"users": []}))[0] == 422
    assert error_of(api.put(f"/{audience}/users/replace", json={"users": 1}))[0] == 422
    assert api.put(f"/{audience}/users/replace", json={"users": ["b"]}).status_code == 202


def test_the_replace_interval_comes_from_the_settings(store: Store) -> None:
    """With a zero interval, replaces may follow each other."""
    app = create_app(Settings(embedded_worker=False, replace_interval_seconds=0), store)
    worker = Worker(store)
    with TestClient(app) as client:
        api = Api(client, make_tenant(store))
        api.create("aud")
        for users in (["a"], ["b"]):
            assert api.put("/aud/users/replace", json={"users": users}).status_code == 202
            worker.run_once()
        assert api.members("aud") == ["b"]


def test_clear_empties_the_audience(api: Api, worker: Worker, audience: str) -> None:
    """202 processing, then no members and a zero user_count."""
    api.post(f"/{audience}/users", json={"add": ["a", "b"]})
    worker.run_once()
    response = api.delete(f"/{audience}/users/clear")
    assert response.status_code == 202
    assert response.json()["custom_audience"]["status"] == "processing"
    worker.run_once()
    assert api.members(audience) == []
    assert api.audience(audience)["user_count"] == 0


def test_mutations_of_an_unknown_audience_are_404(api: Api) -> None:
    """Even with a bad body, the missing audience is reported first."""
    for method, path, content in [
        ("POST", "/nope/users", b"{not json"),
        ("PUT", "/nope/users/replace", b'{"users": 3}'),
        ("DELETE", "/nope/users/clear", b""),
    ]:
        response = api.request(method, path, content=content)
        assert error_of(response) == (404, "CUSTOM_AUDIENCE_NOT_FOUND")


def test_a_failed_job_shows_failed_and_allows_the_next_mutation(
    api: Api, store: Store, audience: str
) -> None:
    """status failed with last_job_result; membership untouched; next mutation accepted."""
    api.post(f"/{audience}/users", json={"add": ["a", "b"]})
    job = store.claim_job("w", utc_now(), timedelta(seconds=60))
    assert job is not None
    store.fail_job(job, "w", utc_now())
    failed = api.audience(audience)
    assert failed["status"] == "failed"
    assert failed["last_job_result"]["error_count"] == 2
    assert api.members(audience) == []
    assert api.post(f"/{audience}/users", json={"add": ["c"]}).status_code == 202


def test_the_embedded_worker_applies_mutations_without_polling(store: Store) -> None:
    """With the worker embedded, an accepted mutation is applied promptly (it is woken)."""
    app = create_app(Settings(embedded_worker=True), store)
    with TestClient(app) as client:
        api = Api(client, make_tenant(store))
        api.create("live")
        api.post("/live/users", json={"add": ["a", "b"]})
        assert _eventually(lambda: api.audience("live")["status"] == "ready")
        assert api.members("live") == ["a", "b"]
    assert not [t for t in _threads() if t.name.startswith("worker-")]


def _eventually(condition: Callable[[], bool], attempts: int = 500) -> bool:
    """Poll a condition (up to ~10 s) for behaviour that happens on another thread."""
    for _ in range(attempts):
        if condition():
            return True
        time.sleep(0.02)
    return False


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.is_alive()]
