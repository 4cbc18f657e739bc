"""First start of ``serve`` on an empty database: demo credentials, a working curl, quiet logs."""

from __future__ import annotations

import json
import signal
import subprocess

from .support import Launcher, audiences_path, read_demo


def test_first_start_prints_credentials_and_the_printed_curl_works(launcher: Launcher) -> None:
    """The banner's curl line, run as printed, creates the example audience."""
    server = launcher.serve()
    demo = read_demo(server.stdout)
    assert demo.app_id.startswith("app_")
    done = subprocess.run(
        ["bash", "-c", demo.curl], capture_output=True, text=True, timeout=60, check=True
    )
    created = json.loads(done.stdout)["custom_audience"]
    assert created["vendor_id"] == "braze_high_value"
    assert created["id"].startswith("caud_")
    with server.client(demo.token) as client:
        fetched = client.get(audiences_path(demo.app_id, "/braze_high_value"))
    assert fetched.status_code == 200
    assert fetched.json()["custom_audience"]["id"] == created["id"]


def test_restart_prints_no_credentials_and_the_token_keeps_working(launcher: Launcher) -> None:
    """The token is printed once only; after a restart it still authenticates."""
    first = launcher.serve()
    demo = read_demo(first.stdout)
    first.signal(signal.SIGTERM)
    assert first.wait() == 0
    second = launcher.serve()
    assert "token" not in second.stdout
    assert demo.token not in second.stdout + second.stderr
    with second.client(demo.token) as client:
        assert client.get(audiences_path(demo.app_id)).status_code == 200


def test_logs_never_contain_the_token(launcher: Launcher) -> None:
    """Access-logged requests carry no Authorization value; only the banner shows the token."""
    server = launcher.serve()
    demo = read_demo(server.stdout)
    with server.client(demo.token) as client:
        assert client.get(audiences_path(demo.app_id)).status_code == 200
        assert client.get(audiences_path(demo.app_id, "/nope")).status_code == 404
    server.signal(signal.SIGTERM)
    server.wait()
    banner, _, after_banner = server.stdout.partition("\n\n")
    assert demo.token in banner
    logs = after_banner + server.stderr
    assert f"GET {audiences_path(demo.app_id)}" in logs
    assert demo.token not in logs
