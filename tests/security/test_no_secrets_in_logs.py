"""No log line, at any level, ever holds a token or an Authorization header value: neither
the in-process logs of a whole workflow at DEBUG, nor what a real ``serve`` writes."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from custom_audiences.api.app import create_app
from custom_audiences.config import Settings
from custom_audiences.domain.accounts import new_token
from custom_audiences.domain.audiences import Audience
from custom_audiences.services import admin
from custom_audiences.store import open_store
from custom_audiences.store.memory import InMemoryStore
from custom_audiences.worker.runner import Worker

from .conftest import Tenant, make_tenant

CLI = Path(sys.executable).with_name("custom-audiences")


class CrashingStore(InMemoryStore):
    """Crashes on one vendor_id, so that an internal error (with its traceback) is logged."""

    def get_audience(self, app_id: str, vendor_id: str) -> Audience | None:
        if vendor_id == "crash":
            raise RuntimeError("boom")
        return super().get_audience(app_id, vendor_id)


def workflow(client: httpx.Client, tenant: Tenant, base: str, garbage: list[str]) -> None:
    """Create, mutate, list, fail to authenticate in every way, and hit a server error."""
    headers = tenant.headers
    body = {"custom_audience": {"vendor_id": "aud", "name": "Audience"}}
    assert client.post(base, json=body, headers=headers).status_code == 201
    assert (
        client.post(f"{base}/aud/users", json={"add": ["u1"]}, headers=headers).status_code == 202
    )
    client.put(f"{base}/aud/users/replace", json={"users": ["u2"]}, headers=headers)
    client.get(f"{base}/aud/users", params={"limit": 1, "cursor": "u0"}, headers=headers)
    client.get(f"{base}/nope", headers=headers)
    client.post(f"{base}/aud/users", content=b"{", headers=headers)
    for value in garbage:
        client.get(base, headers={"Authorization": value})
    client.get(base.replace("/mobile_applications/", "/mobile_applications/x"), headers=headers)


def secrets_of(tenant: Tenant, revoked: str) -> tuple[list[str], list[str]]:
    """The tokens that must never be logged, and the Authorization values sent with them."""
    unknown = new_token()
    garbage = [
        f"Bearer {revoked}",
        f"Bearer {unknown}",
        f"bearer {tenant.token}",
        tenant.token,
        f"Bearer  {tenant.token}",
        f"Basic {tenant.token}",
    ]
    return [tenant.token, revoked, unknown], garbage


def test_a_debug_level_workflow_logs_no_token(caplog: pytest.LogCaptureFixture) -> None:
    """Every record of every logger at DEBUG, tracebacks included, is free of tokens."""
    caplog.set_level(logging.DEBUG)
    store = CrashingStore()
    tenant = make_tenant(store)
    revoked = admin.create_api_key(store, tenant.app_id, "revoked")
    admin.revoke_api_key(store, revoked.key.id)
    tokens, garbage = secrets_of(tenant, revoked.token)
    app = create_app(Settings(embedded_worker=False, rate_limit="1000000/minute"), store)
    with TestClient(app) as client:
        workflow(client, tenant, tenant.base, garbage)
        assert client.get(f"{tenant.base}/crash", headers=tenant.headers).status_code == 500
        while Worker(store, worker_id="logs").run_once():
            pass
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "api.internal_error" in logged  # the traceback was logged, so it was looked at
    assert "worker.job_applied" in logged
    for secret in [*tokens, *garbage, "Bearer "]:
        assert secret not in logged


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.acceptance
def test_a_real_serve_logs_no_token(tmp_path: Path) -> None:
    """uvicorn's access log and the service's own lines, on stdout and stderr, hold no token."""
    database = f"sqlite:///{tmp_path / 'logs.db'}"
    store = open_store(database)
    store.upgrade()
    tenant = make_tenant(store)  # an account exists: no demo token is printed
    revoked = admin.create_api_key(store, tenant.app_id, "revoked")
    admin.revoke_api_key(store, revoked.key.id)
    store.close()
    tokens, garbage = secrets_of(tenant, revoked.token)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOM_AUDIENCES_")}
    env |= {"CUSTOM_AUDIENCES_DATABASE_URL": database, "CUSTOM_AUDIENCES_RATE_LIMIT": "1000/minute"}
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(
            [str(CLI), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
        with httpx.Client(base_url=base_url, timeout=30) as client:
            workflow(client, tenant, tenant.base, garbage)
        time.sleep(1.5)  # let the embedded worker apply (and log) the jobs
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    logged = out.read_text(errors="replace") + err.read_text(errors="replace")
    assert (
        f'"GET {tenant.base}/aud/users?limit=1&cursor=u0 HTTP/1.1" 200' in logged
    )  # access log on
    for secret in [*tokens, *garbage, "Bearer "]:
        assert secret not in logged
