"""The demo banner that serve prints: reachable URL and a curl line that parses back exactly."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime

import pytest

from custom_audiences.cli.demo import EXAMPLE_AUDIENCE, base_url, demo_banner, example_curl
from custom_audiences.domain.accounts import Account, ApiKey, App
from custom_audiences.services.admin import DemoSetup, IssuedKey


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),  # noqa: S104
        ("::", "http://[::1]:8000"),
        ("::1", "http://[::1]:8000"),
        ("api.local", "http://api.local:8000"),
    ],
)
def test_base_url_maps_wildcards_to_loopback(host: str, expected: str) -> None:
    """A server bound to every interface is advertised at a loopback address."""
    assert base_url(host, 8000) == expected


def test_example_curl_parses_back_to_the_example_request() -> None:
    """The shell line splits into a POST of the API document's step 1 with the token."""
    line = example_curl("http://127.0.0.1:8000", "app_x", "ca_a-b_c")
    argv = shlex.split(line)
    assert argv[:4] == [
        "curl",
        "-X",
        "POST",
        "http://127.0.0.1:8000/client/mobile_applications/app_x/custom_audiences",
    ]
    assert "Authorization: Bearer ca_a-b_c" in argv
    assert json.loads(argv[argv.index("-d") + 1]) == EXAMPLE_AUDIENCE
    assert EXAMPLE_AUDIENCE["custom_audience"]["vendor_id"] == "braze_high_value"


def test_banner_shows_app_id_token_and_curl_each_on_one_line() -> None:
    """The banner carries the app id, the token and the curl line, none of them wrapped."""
    now = datetime(2026, 3, 13, tzinfo=UTC)
    demo = DemoSetup(
        Account("acct_1", "Demo", frozenset({"custom-audiences"}), now),
        App("app_1", "acct_1", "Demo app", now),
        IssuedKey(ApiKey("key_1", "app_1", "demo", "h", now), "ca_token"),
    )
    lines = demo_banner(demo, "0.0.0.0", 9000).splitlines()  # noqa: S104
    assert "  app id   app_1" in lines
    assert "  token    ca_token" in lines
    curl = next(line.strip() for line in lines if line.strip().startswith("curl "))
    assert "http://127.0.0.1:9000/client/mobile_applications/app_1/" in curl
