"""What one model run drives: a store, the app under two replace intervals, and workers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
from custom_audiences.domain.audiences import JobResult
from custom_audiences.services import admin
from custom_audiences.store.base import Job, Store
from custom_audiences.worker.runner import Worker

from .contract import ModelAudience

#: 0: every replace is allowed; an hour: a second replace of an audience is always refused.
REPLACE_INTERVALS = (0, 3600)
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
AUDIENCE_ID = re.compile(r"caud_[A-Za-z0-9_-]{20}")
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


class FailingApplies:
    """The real store, except that applying a job raises, so the worker marks the job failed."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def apply_job(self, job: Job, worker_id: str, now: datetime) -> JobResult:
        raise RuntimeError("apply refused on purpose")


@dataclass
class Harness:
    store: Store
    clients: dict[int, TestClient[Litestar]]
    worker: Worker
    failing_worker: Worker

    def drain(self) -> None:
        """Apply every queued job, so that one run never inherits another's queue."""
        while self.worker.run_once():
            pass


def failing_worker(store: Store) -> Worker:
    worker = Worker(FailingApplies(store), worker_id="model-failing")  # type: ignore[arg-type]
    worker.retry_delays = ()  # fail at the first error, without sleeping
    return worker


@dataclass
class Caller:
    """One fresh tenant (account with the feature, app, key) calling through one client."""

    client: TestClient[Litestar]
    base: str
    headers: dict[str, str]

    @classmethod
    def fresh(cls, store: Store, client: TestClient[Litestar]) -> Caller:
        account = admin.create_account(store, "Model", frozenset({CUSTOM_AUDIENCES_FEATURE}))
        app = admin.create_app(store, account.id, "Model app")
        issued = admin.create_api_key(store, app.id, "model")
        base = f"/client/mobile_applications/{app.id}/custom_audiences"
        return cls(client, base, {"Authorization": f"Bearer {issued.token}"})

    def call(self, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.client.request(method, self.base + path, headers=headers, **kwargs)
        assert response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert all(response.headers[name].isdigit() for name in RATE_HEADERS)
        return response


def audience_path(vendor_id: str, suffix: str = "") -> str:
    return "/" + quote(vendor_id, safe="") + suffix


def expect_error(response: httpx.Response, status: int, code: str) -> list[str]:
    """Assert the status and the error envelope; return its messages."""
    assert (response.status_code, response.text) == (status, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "messages"}, body
    assert body["error"]["code"] == code, body
    messages: list[str] = body["error"]["messages"]
    assert messages, body
    assert all(isinstance(m, str) and m for m in messages), body
    return messages


def expect_audience(response: httpx.Response, status: int, model: ModelAudience) -> None:
    """The response is exactly the model's ``custom_audience`` (timestamps well formed)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"custom_audience"}, body
    check_audience_body(body["custom_audience"], model)


def check_audience_body(body: dict[str, Any], model: ModelAudience) -> None:
    assert body == model.body()
    assert AUDIENCE_ID.fullmatch(body["id"]), body
    for name in ("created_at", "updated_at"):
        assert TIMESTAMP.fullmatch(body[name]), body
    assert body["last_synced_at"] is None or TIMESTAMP.fullmatch(body["last_synced_at"])
    assert body["created_at"] <= body["updated_at"]
