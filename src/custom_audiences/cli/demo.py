"""What ``serve`` prints after seeding an empty embedded database: credentials and a curl line."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custom_audiences.services.admin import DemoSetup

#: Step 1 of the API document's example workflow.
EXAMPLE_AUDIENCE = {
    "custom_audience": {
        "vendor_id": "braze_high_value",
        "name": "High-Value Users (Braze)",
        "identifier_type": "user_id",
    }
}


def base_url(host: str, port: int) -> str:
    """A URL a local client can reach, even when the server listens on every interface."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - mapping the wildcard, not binding it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def example_curl(url: str, app_id: str, token: str) -> str:
    """A one-line, ready-to-paste curl that creates the example audience."""
    return shlex.join(
        [
            "curl",
            "-X",
            "POST",
            f"{url}/client/mobile_applications/{app_id}/custom_audiences",
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps(EXAMPLE_AUDIENCE),
        ]
    )


def demo_banner(demo: DemoSetup, host: str, port: int) -> str:
    token = demo.issued.token
    return "\n".join(
        [
            "Created a demo account on this empty database (the token is shown this once only):",
            f"  account  {demo.account.id}",
            f"  app id   {demo.app.id}",
            f"  token    {token}",
            "Create the example audience with:",
            f"  {example_curl(base_url(host, port), demo.app.id, token)}",
            "",
        ]
    )
