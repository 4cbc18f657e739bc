"""Inputs the fuzzers turned up, pinned on every engine: U+0000 (PostgreSQL text cannot hold
it) in a path, a cursor or a name, and internal errors whose detail must stay in the log."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.domain.audiences import Audience
from custom_audiences.errors import InternalError
from custom_audiences.store.base import Store
from custom_audiences.store.memory import InMemoryStore

from .conftest import EXISTING, FuzzTarget, Keys, issue


@pytest.fixture
def client(target: FuzzTarget) -> Iterator[TestClient[Litestar]]:
    with TestClient(target.app) as test_client:
        yield test_client


def url(keys: Keys, path: str = "") -> str:
    return f"/client/mobile_applications/{keys.app_id}/custom_audiences{path}"


@pytest.mark.parametrize("vendor_id", ["a\x00b", "\x00", "é", "has space", "v" * 256])
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("DELETE", ""), ("GET", "/users"), ("DELETE", "/users/clear")],
)
def test_a_path_vendor_id_no_audience_can_have_is_a_plain_404(
    client: TestClient[Litestar], keys: Keys, vendor_id: str, method: str, suffix: str
) -> None:
    """No lookup is even tried: 404 CUSTOM_AUDIENCE_NOT_FOUND, never a 500."""
    path = "/" + quote(vendor_id, safe="") + suffix
    response = client.request(method, url(keys, path), headers=auth(keys))
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "CUSTOM_AUDIENCE_NOT_FOUND"


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [("\x00", ["u1", "u2", "é"]), ("u1\x00zzz", ["u2", "é"]), ("u2\x00", ["é"])],
)
def test_a_cursor_holding_nul_pages_as_if_cut_there(
    client: TestClient[Litestar], keys: Keys, cursor: str, expected: list[str]
) -> None:
    """No identifier holds U+0000, so the members after ``x\\0...`` are those after ``x``."""
    response = client.get(
        url(keys, f"/{EXISTING}/users"), params={"cursor": cursor}, headers=auth(keys)
    )
    assert response.status_code == 200, response.text
    assert response.json()["users"] == expected


def test_a_name_holding_nul_is_a_validation_problem(
    client: TestClient[Litestar], keys: Keys
) -> None:
    """422 VALIDATION_FAILED naming the field, on every engine alike."""
    body = {"custom_audience": {"vendor_id": "nul_name", "name": "a\x00b"}}
    response = client.post(url(keys), json=body, headers=auth(keys))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    assert any("name" in message for message in response.json()["error"]["messages"])


class LeakyStore(InMemoryStore):
    """Fails the way the SQL stores do on a driver error: an InternalError with the detail."""

    def get_audience(self, app_id: str, vendor_id: str) -> Audience | None:
        raise InternalError("database misuse: relation secret_table, password=hunter2")


def test_an_internal_error_answers_without_its_detail(caplog: pytest.LogCaptureFixture) -> None:
    """The body is the bare 500 envelope; the detail goes to the log only."""
    store: Store = LeakyStore()
    app_id, _, token = issue(store, feature=True)
    settings = Settings(embedded_worker=False)
    with TestClient(create_app(settings, store)) as client:
        response = client.get(
            f"/client/mobile_applications/{app_id}/custom_audiences/aud",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "INTERNAL_ERROR", "messages": ["Internal server error"]}
    }
    assert "hunter2" in caplog.text


def auth(keys: Keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.token}"}
