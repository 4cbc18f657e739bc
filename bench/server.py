"""A real ``serve`` subprocess for the benchmarks, and the few API calls they time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
import msgspec

CLI = str(Path(sys.executable).with_name("custom-audiences"))
# Polls start fast (clears take milliseconds) and back off (so that polling does not steal
# the CPU from a seconds-long apply on this 2-core machine): resolution stays within ~3 %.
POLL_FIRST_SECONDS = 0.001
POLL_MAX_SECONDS = 0.025


class Page(msgspec.Struct):
    users: list[str]
    next_cursor: str | None
    has_more: bool


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BenchServer:
    """``serve`` (plus a ``worker`` on PostgreSQL) on the given database, with a fresh key."""

    database_url: str
    workdir: Path
    #: False: jobs wait for ``worker`` processes that the scenario starts itself.
    embedded_worker: bool = True

    def __enter__(self) -> BenchServer:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOM_AUDIENCES_")}
        self.env |= {
            "CUSTOM_AUDIENCES_DATABASE_URL": self.database_url,
            "CUSTOM_AUDIENCES_RATE_LIMIT": "1000000000/minute",
            "CUSTOM_AUDIENCES_REPLACE_INTERVAL_SECONDS": "0",
            # One worker in the server process on either engine, so runs compare.
            "CUSTOM_AUDIENCES_EMBEDDED_WORKER": "1" if self.embedded_worker else "0",
        }
        self.port = _free_port()
        self.log = (self.workdir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [CLI, "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._wait_healthy()
        self.app_id, token = self._credentials()
        self.client = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=300
        )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"serve exited: see {self.workdir / 'serve.log'}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit("serve did not become healthy within 60 s")

    def _admin(self, *args: str) -> dict[str, str]:
        done = subprocess.run(
            [CLI, *args, "--json"],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, str] = json.loads(done.stdout)
        return result

    def _credentials(self) -> tuple[str, str]:
        """A dedicated account, app and key, made through the admin CLI (works on any engine)."""
        account = self._admin(
            "accounts", "create", "--name", "bench", "--feature", "custom-audiences"
        )
        app = self._admin("apps", "create", "--account", account["id"], "--name", "bench")
        key = self._admin("api-keys", "create", "--app", app["id"], "--name", "bench")
        return app["id"], key["token"]

    # -- API calls -------------------------------------------------------------------
    def path(self, vendor_id: str = "", suffix: str = "") -> str:
        base = f"/client/mobile_applications/{self.app_id}/custom_audiences"
        return f"{base}/{vendor_id}{suffix}" if vendor_id else base

    def create(self, vendor_id: str) -> None:
        body = {"custom_audience": {"vendor_id": vendor_id, "name": vendor_id}}
        self._expect(self.client.post(self.path(), json=body), 201)

    def send(self, method: str, vendor_id: str, suffix: str, body: bytes | None) -> float:
        """Send a mutation; return the seconds until its 202 arrived."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        started = time.perf_counter()
        response = self.client.request(
            method, self.path(vendor_id, suffix), content=body, headers=headers
        )
        elapsed = time.perf_counter() - started
        self._expect(response, 202)
        return elapsed

    def wait_ready(self, vendor_id: str) -> float:
        """Poll until the audience leaves ``processing``; return perf_counter() at that moment."""
        path, pause = self.path(vendor_id), POLL_FIRST_SECONDS
        while True:
            response = self.client.get(path)
            self._expect(response, 200)
            status = response.json()["custom_audience"]["status"]
            if status == "ready":
                return time.perf_counter()
            if status == "failed":
                raise SystemExit(f"{vendor_id}: job failed: {response.text}")
            time.sleep(pause)
            pause = min(pause * 1.5, POLL_MAX_SECONDS)

    def mutate_and_wait(
        self, method: str, vendor_id: str, suffix: str, body: bytes | None
    ) -> tuple[float, float]:
        """(seconds to the 202, seconds from the request to ``ready``)."""
        started = time.perf_counter()
        to_202 = self.send(method, vendor_id, suffix, body)
        return to_202, self.wait_ready(vendor_id) - started

    def user_count(self, vendor_id: str) -> int:
        response = self.client.get(self.path(vendor_id))
        self._expect(response, 200)
        return int(response.json()["custom_audience"]["user_count"])

    def export(self, vendor_id: str, limit: int) -> tuple[int, float]:
        """Page through every member; return (count, seconds)."""
        path, params = self.path(vendor_id, "/users"), {"limit": str(limit)}
        count, started = 0, time.perf_counter()
        while True:
            response = self.client.get(path, params=params)
            self._expect(response, 200)
            page = msgspec.json.decode(response.content, type=Page)
            count += len(page.users)
            if not page.has_more or page.next_cursor is None:
                return count, time.perf_counter() - started
            params["cursor"] = page.next_cursor

    @staticmethod
    def _expect(response: httpx.Response, status: int) -> None:
        if response.status_code != status:
            raise SystemExit(
                f"{response.request.method} {response.request.url.path}: "
                f"expected {status}, got {response.status_code}: {response.text[:300]}"
            )
