"""Fixtures of the SDK tests: a fake API on a fake clock, and clients bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sdk_fake_api import APP, TOKEN, FakeApi, FakeClock, MakeClient

from custom_audiences.client import Client, RetryPolicy


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(clock: FakeClock) -> FakeApi:
    return FakeApi(clock)


@pytest.fixture
def make_client(api: FakeApi, clock: FakeClock) -> Iterator[MakeClient]:
    """Clients on the fake API that sleep on the fake clock (jitter fixed at one half)."""
    opened: list[httpx.Client] = []

    def make(**options: Any) -> Client:
        http = httpx.Client(transport=api.transport())
        opened.append(http)
        options.setdefault("retry", RetryPolicy(jitter=lambda: 0.5))
        return Client(
            "http://fake", APP, TOKEN, http_client=http, sleep=clock.sleep, clock=clock, **options
        )

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def client(make_client: MakeClient) -> Client:
    return make_client()
