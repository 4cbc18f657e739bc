"""Drive the real ``custom-audiences serve`` (and ``worker``) as subprocesses over HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from custom_audiences.domain.accounts import CUSTOM_AUDIENCES_FEATURE
from custom_audiences.services import admin
from custom_audiences.store import open_store

CLI = Path(sys.executable).with_name("custom-audiences")
START_TIMEOUT = 60.0
JOB_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A CLI subprocess whose stdout and stderr go to files (so they never block it)."""

    popen: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: signal.Signals) -> None:
        if self.alive():
            self.popen.send_signal(signum)

    def wait(self, timeout: float = 60.0) -> int:
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
        self.popen.wait(timeout=30)


@dataclass
class Server(Process):
    base_url: str = ""

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60.0)


@dataclass
class Demo:
    """What the first start printed."""

    app_id: str
    token: str
    curl: str


@dataclass
class Launcher:
    """Starts CLI processes on one database and kills every one of them at teardown."""

    workdir: Path
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    started: list[Process] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOM_AUDIENCES_")}
        env["CUSTOM_AUDIENCES_DATABASE_URL"] = self.database_url
        # The suite makes many calls with one key; per-key limits are not what it checks.
        env["CUSTOM_AUDIENCES_RATE_LIMIT"] = "1000000/minute"
        return env | self.extra_env

    def _spawn(
        self, args: list[str], env: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], Path, Path]:
        n = len(self.started)
        out, err = self.workdir / f"p{n}.out", self.workdir / f"p{n}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            popen = subprocess.Popen(
                [str(CLI), *args], cwd=self.workdir, env=env, stdout=stdout, stderr=stderr
            )
        return popen, out, err

    def serve(self, *args: str, **env_overrides: str) -> Server:
        port = free_port()
        popen, out, err = self._spawn(
            ["serve", "--port", str(port), *args], self.env() | env_overrides
        )
        server = Server(popen, out, err, base_url=f"http://127.0.0.1:{port}")
        self.started.append(server)
        wait_healthy(server)
        return server

    def worker(self, *args: str, **env_overrides: str) -> Process:
        popen, out, err = self._spawn(["worker", *args], self.env() | env_overrides)
        process = Process(popen, out, err)
        self.started.append(process)
        return process

    def admin(self, *args: str) -> dict[str, Any]:
        """Run an admin command with ``--json`` on this database; return its object."""
        done = subprocess.run(
            [str(CLI), *args, "--json"],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def kill_all(self) -> None:
        for process in self.started:
            process.kill()


def provision_tenant(database_url: str, name: str = "tenant") -> Demo:
    """Migrate the database and give it an account (feature on), an app and a key, in-process
    (where no demo is seeded; the admin commands themselves are tested on their own)."""
    store = open_store(database_url)
    try:
        store.upgrade()
        account = admin.create_account(store, name, frozenset({CUSTOM_AUDIENCES_FEATURE}))
        app = admin.create_app(store, account.id, name)
        issued = admin.create_api_key(store, app.id, name)
    finally:
        store.close()
    return Demo(app.id, issued.token, "")


def wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not server.alive():
            raise AssertionError(f"serve exited early:\n{server.stdout}\n{server.stderr}")
        try:
            if httpx.get(server.base_url + "/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"serve did not become healthy:\n{server.stderr}")


def read_demo(stdout: str) -> Demo:
    """Parse the banner of a first start."""
    app_id = re.search(r"^  app id +(app_\S+)$", stdout, re.MULTILINE)
    token = re.search(r"^  token +(\S+)$", stdout, re.MULTILINE)
    curl = re.search(r"^  (curl .+)$", stdout, re.MULTILINE)
    assert app_id, stdout
    assert token, stdout
    assert curl, stdout
    return Demo(app_id[1], token[1], curl[1])


def audiences_path(app_id: str, suffix: str = "") -> str:
    return f"/client/mobile_applications/{app_id}/custom_audiences{suffix}"


def wait_settled(client: httpx.Client, path: str, timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
    """Poll GET ``path`` (one audience) until it is no longer processing; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(path)
        assert response.status_code == 200, response.text
        audience: dict[str, Any] = response.json()["custom_audience"]
        if audience["status"] != "processing":
            return audience
        time.sleep(0.1)
    raise AssertionError(f"{path} still processing after {timeout} s")


def all_users(client: httpx.Client, path: str, limit: int = 10_000) -> Iterator[str]:
    """Every member, page by page through the cursor."""
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["warning"] is None
        yield from page["users"]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return
        cursor = page["next_cursor"]
