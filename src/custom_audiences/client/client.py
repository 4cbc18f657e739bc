"""``Client``: the blocking SDK, one method per endpoint of the API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TypeVar

import httpx

from custom_audiences.client import transport
from custom_audiences.client.encoding import MAX_BODY_BYTES
from custom_audiences.client.exchange import Call, Failure, Flow, Pause, Reply
from custom_audiences.client.flows import MAX_USERS_PAGE, BatchSent, Flows
from custom_audiences.client.models import Audience, UsersPage
from custom_audiences.client.retry import RetryPolicy

T = TypeVar("T")


class Client:
    """Talks to one app of a Custom Audiences server; use as a context manager.

    ``base_url`` is the server root (``https://api.example.com``) or the app's base URL.
    Pass ``http_client`` to reuse a configured ``httpx.Client`` (it is then not closed
    here). ``sleep`` and ``clock`` exist so tests can run retries without waiting.
    """

    def __init__(
        self,
        base_url: str,
        app_id: str,
        api_key: str,
        *,
        http_client: httpx.Client | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self._owns_http = http_client is None
        self._url = transport.app_url(base_url, app_id)
        self._headers = transport.headers(api_key)
        self._flows = Flows(retry or RetryPolicy(), clock, max_body_bytes)
        self._sleep = sleep
        self.stats = transport.RequestStats()

    @property
    def max_body_bytes(self) -> int:
        """The largest request body this client sends; mutations are split to stay under it."""
        return self._flows.max_body_bytes

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- audiences ---------------------------------------------------------------------
    def create_audience(
        self, vendor_id: str, name: str, identifier_type: str = "user_id"
    ) -> Audience:
        return self._run(self._flows.create_audience(vendor_id, name, identifier_type))

    def list_audiences(self) -> Iterator[Audience]:
        """Every active audience, oldest first, fetching pages as the iteration goes."""
        page = 1
        while True:
            envelope = self._run(self._flows.audiences_page(page))
            yield from envelope.custom_audiences
            if not envelope.custom_audiences or transport.is_last_audience_page(envelope):
                return
            page += 1

    def get_audience(self, vendor_id: str) -> Audience:
        return self._run(self._flows.get_audience(vendor_id))

    def delete_audience(self, vendor_id: str) -> Audience:
        """Archive the audience (waiting out a running mutation first); returns it as it was."""
        return self._run(self._flows.delete_audience(vendor_id))

    # -- members -----------------------------------------------------------------------
    def add_and_remove_users(
        self,
        vendor_id: str,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        *,
        wait: bool = True,
        on_batch: Callable[[BatchSent], None] | None = None,
    ) -> Audience:
        """Add and remove users, split into requests under the body limit.

        Returns the audience once the last job is done (or as accepted, ``wait=False``).
        ``on_batch`` is called after each request is accepted.
        """
        flow = self._flows.add_and_remove_users(
            vendor_id, add, remove, wait=wait, on_batch=on_batch
        )
        return self._run(flow)

    def replace_users(self, vendor_id: str, users: Iterable[str], *, wait: bool = True) -> Audience:
        """Replace the whole membership (one request; at most once per 12 hours)."""
        return self._run(self._flows.replace_users(vendor_id, users, wait=wait))

    def clear_users(self, vendor_id: str, *, wait: bool = True) -> Audience:
        return self._run(self._flows.clear_users(vendor_id, wait=wait))

    def list_users(
        self, vendor_id: str, *, cursor: str | None = None, limit: int = 1000
    ) -> UsersPage:
        """One page of members, as the API returns it (empty with a warning while processing)."""
        return self._run(self._flows.users_page(vendor_id, cursor, limit))

    def iter_user_pages(
        self, vendor_id: str, *, page_size: int = MAX_USERS_PAGE
    ) -> Iterator[UsersPage]:
        """Every page of members; a page met while processing is waited out and read again."""
        cursor: str | None = None
        while True:
            page = self._run(self._flows.settled_users_page(vendor_id, cursor, page_size))
            yield page
            if not page.has_more or page.next_cursor is None:
                return
            cursor = page.next_cursor

    def iter_users(self, vendor_id: str, *, page_size: int = MAX_USERS_PAGE) -> Iterator[str]:
        """Every member, in byte order."""
        for page in self.iter_user_pages(vendor_id, page_size=page_size):
            yield from page.users

    def wait_until_ready(
        self, vendor_id: str, *, timeout: float | None = None, raise_on_failed: bool = True
    ) -> Audience:
        """Poll until no mutation runs; raises ``MutationFailed`` or ``WaitTimeout``.

        ``raise_on_failed=False`` returns a ``failed`` audience instead of raising.
        """
        flow = self._flows.wait_until_ready(
            vendor_id, timeout=timeout, raise_on_failed=raise_on_failed
        )
        return self._run(flow)

    # -- running flows -----------------------------------------------------------------
    def _run(self, flow: Flow[T]) -> T:
        outcome: Reply | Failure | None = None
        try:
            while True:
                action = flow.send(outcome)
                if isinstance(action, Pause):
                    self.stats.count_pause(action.seconds)
                    self._sleep(action.seconds)
                    outcome = None
                else:
                    outcome = self._perform(action)
        except StopIteration as done:
            result: T = done.value
            return result

    def _perform(self, call: Call) -> Reply | Failure:
        request = transport.build_request(self._http, self._url, call, self._headers)
        outcome: Reply | Failure
        try:
            outcome = transport.reply_of(self._http.send(request))
        except httpx.TransportError as exc:
            outcome = transport.failure_of(exc)
        self.stats.count(call, outcome)
        return outcome
