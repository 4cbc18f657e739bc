"""What both clients share about HTTP itself: URLs, headers, failures and counters."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

import httpx

from custom_audiences.client.exchange import Call, Failure, Reply
from custom_audiences.client.flows import AUDIENCES_PER_PAGE
from custom_audiences.client.models import AudienceListEnvelope

# Connection-level failures after which the request certainly never reached the server.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that another attempt cannot cure.
_HOPELESS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def _sdk_version() -> str:
    try:
        return metadata.version("custom-audiences")
    except metadata.PackageNotFoundError:
        return "0"


def app_url(base_url: str, app_id: str) -> str:
    """The URL of the app's audiences, from the server root (or the app's base URL)."""
    root = base_url.rstrip("/")
    app_path = f"/client/mobile_applications/{app_id}"
    if not root.endswith(app_path):
        root += app_path
    return root + "/custom_audiences"


def headers(api_key: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "User-Agent": f"custom-audiences-python/{_sdk_version()}",
    }


def build_request(
    http: httpx.Client | httpx.AsyncClient, url: str, call: Call, base_headers: dict[str, str]
) -> httpx.Request:
    request_headers = base_headers
    if call.body is not None:
        request_headers = {**base_headers, "Content-Type": "application/json"}
    return http.build_request(
        call.method,
        url + call.path,
        params=dict(call.params) if call.params else None,
        content=call.body,
        headers=request_headers,
    )


def failure_of(exc: httpx.TransportError) -> Failure:
    return Failure(
        f"{type(exc).__name__}: {exc}",
        maybe_sent=not isinstance(exc, _NEVER_SENT),
        retryable=not isinstance(exc, _HOPELESS),
    )


def reply_of(response: httpx.Response) -> Reply:
    return Reply(response.status_code, response.headers, response.content)


@dataclass(slots=True)
class RequestStats:
    """What a client has sent so far (a sync reports these)."""

    requests: int = 0
    mutations: int = 0  # POST, PUT and DELETE requests
    bytes_sent: int = 0
    failures: int = 0  # attempts that got no response
    pauses: int = 0
    seconds_paused: float = 0.0

    def count(self, call: Call, outcome: Reply | Failure) -> None:
        self.requests += 1
        self.mutations += call.method != "GET"
        self.bytes_sent += len(call.body or b"")
        self.failures += isinstance(outcome, Failure)

    def count_pause(self, seconds: float) -> None:
        self.pauses += 1
        self.seconds_paused += seconds


def is_last_audience_page(envelope: AudienceListEnvelope) -> bool:
    if envelope.meta is not None:
        return envelope.meta.page >= envelope.meta.total_pages
    return len(envelope.custom_audiences) < AUDIENCES_PER_PAGE
