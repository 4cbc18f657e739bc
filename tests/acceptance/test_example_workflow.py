"""The API document's full sync workflow, over HTTP against the real server, on each engine.

SQLite: one ``serve`` (with its embedded worker) and the demo tenant it seeds. PostgreSQL:
``serve`` and a standalone ``worker`` on a fresh schema, with a tenant provisioned for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import (
    Demo,
    Launcher,
    Server,
    all_users,
    audiences_path,
    provision_tenant,
    read_demo,
    wait_settled,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Demo]]:
    """A running server, on each engine as it is deployed, and a tenant to call it with."""
    if request.param == "sqlite":
        launcher = Launcher(tmp_path, f"sqlite:///{tmp_path / 'audiences.db'}")
    else:
        launcher = Launcher(tmp_path, request.getfixturevalue("postgres_schema_url"))
    try:
        if request.param == "sqlite":
            server = launcher.serve()
            yield server, read_demo(server.stdout)
        else:
            demo = provision_tenant(launcher.database_url)
            server = launcher.serve()
            launcher.worker()
            yield server, demo
    finally:
        launcher.kill_all()


def test_the_documented_sync_workflow(deployment: tuple[Server, Demo]) -> None:
    """Create, replace, check, add/remove, list, clear and archive behave as documented."""
    server, demo = deployment
    base = audiences_path(demo.app_id)
    one = audiences_path(demo.app_id, "/braze_high_value")
    with server.client(demo.token) as client:
        # 1. Create the custom audience.
        created = client.post(
            base,
            json={
                "custom_audience": {
                    "vendor_id": "braze_high_value",
                    "name": "High-Value Users (Braze)",
                    "identifier_type": "user_id",
                }
            },
        )
        assert created.status_code == 201, created.text
        audience = created.json()["custom_audience"]
        assert audience | {"id": "", "created_at": "", "updated_at": ""} == {
            "id": "",
            "vendor_id": "braze_high_value",
            "name": "High-Value Users (Braze)",
            "identifier_type": "user_id",
            "user_count": 0,
            "status": "ready",
            "last_synced_at": None,
            "last_job_result": None,
            "created_at": "",
            "updated_at": "",
        }

        # 2. Populate it.
        replaced = client.put(
            one + "/users/replace", json={"users": ["uid_001", "uid_002", "uid_003"]}
        )
        assert replaced.status_code == 202, replaced.text
        assert replaced.json()["custom_audience"]["status"] == "processing"

        # 3. Check its status.
        settled = wait_settled(client, one)
        assert settled["status"] == "ready"
        assert settled["user_count"] == 3
        assert settled["last_job_result"] == {
            "processed_count": 3,
            "skipped_count": 0,
            "error_count": 0,
        }
        assert settled["last_synced_at"] is not None

        # 4. Later, update incrementally.
        updated = client.post(one + "/users", json={"add": ["uid_004"], "remove": ["uid_001"]})
        assert updated.status_code == 202, updated.text
        assert wait_settled(client, one)["user_count"] == 3
        assert list(all_users(client, one + "/users")) == ["uid_002", "uid_003", "uid_004"]

        listed = client.get(base)
        assert listed.status_code == 200
        assert [a["vendor_id"] for a in listed.json()["custom_audiences"]] == ["braze_high_value"]

        # A second replace within 12 hours is refused.
        again = client.put(one + "/users/replace", json={"users": ["uid_009"]})
        assert again.status_code == 429
        assert again.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert int(again.headers["Retry-After"]) > 0

        cleared = client.delete(one + "/users/clear")
        assert cleared.status_code == 202
        assert wait_settled(client, one)["user_count"] == 0
        assert list(all_users(client, one + "/users")) == []

        archived = client.delete(one)
        assert archived.status_code == 200
        assert archived.json()["custom_audience"]["vendor_id"] == "braze_high_value"
        gone = client.get(one)
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "CUSTOM_AUDIENCE_NOT_FOUND"


def test_errors_use_the_documented_envelope(deployment: tuple[Server, Demo]) -> None:
    """Missing key, wrong key, unknown route: each answers {"error": {code, messages}}."""
    server, demo = deployment
    with server.client() as anonymous:
        unauthorised = anonymous.get(audiences_path(demo.app_id))
        assert unauthorised.status_code == 401
        assert unauthorised.json()["error"]["code"] == "UNAUTHORIZED"
    with server.client("ca_not-a-real-token") as wrong:
        assert wrong.get(audiences_path(demo.app_id)).status_code == 401
    with server.client(demo.token) as client:
        other_app = client.get(audiences_path("app_someone_else"))
        assert other_app.status_code == 403
        assert other_app.json()["error"]["code"] == "FORBIDDEN"
        unknown = client.get("/no/such/route")
        assert unknown.status_code == 404
        body = unknown.json()["error"]
        assert body["code"] == "NOT_FOUND"
        assert isinstance(body["messages"], list)
