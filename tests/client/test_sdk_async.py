"""AsyncClient: the same operations and rules as Client, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sdk_fake_api import APP, TOKEN, FakeApi, FakeClock

from custom_audiences.client import AsyncClient, AudienceNotFound, RateLimited, RetryPolicy


def run_with_client(
    api: FakeApi, clock: FakeClock, body: Callable[[AsyncClient], Awaitable[Any]], **options: Any
) -> Any:
    options.setdefault("retry", RetryPolicy(jitter=lambda: 0.5))

    async def main() -> Any:
        http = httpx.AsyncClient(transport=api.transport())
        async with AsyncClient(
            "http://fake",
            APP,
            TOKEN,
            http_client=http,
            sleep=clock.async_sleep,
            clock=clock,
            **options,
        ) as client:
            result = await body(client)
        await http.aclose()
        return result

    return asyncio.run(main())


def test_async_audience_lifecycle(api: FakeApi, clock: FakeClock) -> None:
    """Create, list, mutate, iterate, clear and delete through the async client."""

    async def body(client: AsyncClient) -> None:
        await client.create_audience("aud", "Aud")
        assert [a.vendor_id async for a in client.list_audiences()] == ["aud"]
        done = await client.add_and_remove_users("aud", add=["b", "a", "c"], remove=["c"])
        assert done.user_count == 2
        assert [u async for u in client.iter_users("aud", page_size=1)] == ["a", "b"]
        assert (await client.list_users("aud", limit=1)).next_cursor == "a"
        assert (await client.replace_users("aud", ["z"])).user_count == 1
        assert (await client.clear_users("aud")).user_count == 0
        assert (await client.wait_until_ready("aud")).is_ready
        await client.delete_audience("aud")
        with pytest.raises(AudienceNotFound):
            await client.get_audience("aud")

    run_with_client(api, clock, body)


def test_async_429_waits_retry_after_on_the_injected_sleep(api: FakeApi, clock: FakeClock) -> None:
    """The async client honours Retry-After through its (fake) sleep."""
    api.seed("aud")
    api.fault("GET", "/aud", status=429, code="RATE_LIMIT_EXCEEDED", headers={"Retry-After": "4"})

    async def body(client: AsyncClient) -> str:
        return (await client.get_audience("aud")).vendor_id

    assert run_with_client(api, clock, body) == "aud"
    assert clock.sleeps == [4.0]


def test_async_errors_are_the_same_classes(api: FakeApi, clock: FakeClock) -> None:
    """An exhausted 429 raises the same RateLimited as the blocking client."""
    api.fault("GET", "/aud", status=429, code="RATE_LIMIT_EXCEEDED", headers={"Retry-After": "9"})

    async def body(client: AsyncClient) -> None:
        with pytest.raises(RateLimited):
            await client.get_audience("aud")

    run_with_client(api, clock, body, retry=RetryPolicy(max_attempts=1))
