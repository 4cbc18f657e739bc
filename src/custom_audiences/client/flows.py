"""Every operation of the API as a flow (see ``exchange``): requests, waits and splitting.

Retry rules, on top of ``exchange.send``:

- reads, add/remove and clear are replayed after any retryable failure: applying the same
  set operation twice leaves the same membership;
- a mutation meeting 409 MUTATION_IN_PROGRESS waits for the audience to be ready, then
  tries again (at most ``max_conflict_waits`` times);
- create is replayed too, and a replay meeting 422 (the vendor_id now taken) after an
  attempt that may have succeeded resolves to the existing audience when its name and
  identifier type are the ones sent;
- delete and replace are retried only when the server certainly did not act (no
  connection, 429, 503): a second delete could archive a newly created namesake, and a
  replayed replace would be refused by the 12-hour window anyway.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

import msgspec

from custom_audiences.client.encoding import (
    MAX_BODY_BYTES,
    encode_batch,
    encode_users,
    split_batches,
)
from custom_audiences.client.errors import (
    AudienceNotFound,
    CannotArchiveWhileProcessing,
    EmptyPayload,
    MutationFailed,
    MutationInProgress,
    PayloadTooLarge,
    WaitTimeout,
)
from custom_audiences.client.exchange import (
    Call,
    Exchange,
    Flow,
    Pause,
    Replay,
    error_code,
    expect_success,
    send,
)
from custom_audiences.client.models import (
    Audience,
    AudienceEnvelope,
    AudienceListEnvelope,
    UsersPage,
    decode,
)
from custom_audiences.client.retry import RetryPolicy

AUDIENCES_PER_PAGE = 25
MAX_USERS_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class BatchSent:
    """One accepted request of a split add/remove mutation (for progress reporting)."""

    index: int
    added: int
    removed: int
    body_bytes: int
    audience: Audience


class Flows:
    """Builds the flow of each operation for one app, under one retry policy."""

    def __init__(
        self,
        policy: RetryPolicy,
        clock: Callable[[], float],
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.max_body_bytes = max_body_bytes

    # -- audiences ---------------------------------------------------------------------
    def create_audience(self, vendor_id: str, name: str, identifier_type: str) -> Flow[Audience]:
        fields = {"vendor_id": vendor_id, "name": name, "identifier_type": identifier_type}
        body = msgspec.json.encode({"custom_audience": fields})
        exchange = yield from self._send(Call("POST", body=body), Replay.ALWAYS)
        if exchange.reply.status == 422 and exchange.uncertain:
            existing = yield from self._find(vendor_id)
            if existing and (existing.name, existing.identifier_type) == (name, identifier_type):
                return existing
        return _audience(expect_success(exchange.reply).content, exchange.reply.status)

    def get_audience(self, vendor_id: str) -> Flow[Audience]:
        exchange = yield from self._send(Call("GET", _one(vendor_id)), Replay.ALWAYS)
        return _audience(expect_success(exchange.reply).content, exchange.reply.status)

    def delete_audience(self, vendor_id: str) -> Flow[Audience]:
        for conflicts in range(self.policy.max_conflict_waits + 1):
            exchange = yield from self._send(Call("DELETE", _one(vendor_id)), Replay.IF_NOT_APPLIED)
            if error_code(exchange.reply) != CannotArchiveWhileProcessing.CODE:
                break
            if conflicts < self.policy.max_conflict_waits:
                yield from self.wait_until_ready(vendor_id, raise_on_failed=False)
        return _audience(expect_success(exchange.reply).content, exchange.reply.status)

    def audiences_page(self, page: int) -> Flow[AudienceListEnvelope]:
        exchange = yield from self._send(Call("GET", params={"page": page}), Replay.ALWAYS)
        reply = expect_success(exchange.reply)
        return decode(reply.content, AudienceListEnvelope, status=reply.status)

    # -- members -----------------------------------------------------------------------
    def users_page(self, vendor_id: str, cursor: str | None, limit: int) -> Flow[UsersPage]:
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        call = Call("GET", _one(vendor_id) + "/users", params=params)
        exchange = yield from self._send(call, Replay.ALWAYS)
        reply = expect_success(exchange.reply)
        return decode(reply.content, UsersPage, status=reply.status)

    def settled_users_page(self, vendor_id: str, cursor: str | None, limit: int) -> Flow[UsersPage]:
        """A page read while no mutation runs: a "being updated" page is waited out and reread."""
        for attempt in range(self.policy.max_conflict_waits + 1):
            page = yield from self.users_page(vendor_id, cursor, limit)
            if page.warning is None:
                return page
            if attempt < self.policy.max_conflict_waits:
                yield from self.wait_until_ready(vendor_id, raise_on_failed=False)
        raise MutationInProgress(409, MutationInProgress.CODE, [page.warning or "being updated"])

    def wait_until_ready(
        self,
        vendor_id: str,
        *,
        timeout: float | None = None,
        raise_on_failed: bool = True,
        settle_first: bool = False,
    ) -> Flow[Audience]:
        """Poll until the audience is no longer processing; ``failed`` raises ``MutationFailed``."""
        limit = self.policy.wait_timeout if timeout is None else timeout
        delays = self.policy.poll_delays()
        started = self.clock()
        if settle_first:  # just accepted: it cannot be done yet, spare a request
            yield Pause(delays.next())
        while True:
            audience = yield from self.get_audience(vendor_id)
            if not audience.is_processing:
                if audience.is_failed and raise_on_failed:
                    raise MutationFailed(audience)
                return audience
            waited = self.clock() - started
            if waited >= limit:
                raise WaitTimeout(audience, waited)
            yield Pause(min(delays.next(), limit - waited))

    def add_and_remove_users(
        self,
        vendor_id: str,
        add: Iterable[str],
        remove: Iterable[str],
        *,
        wait: bool = True,
        on_batch: Callable[[BatchSent], None] | None = None,
    ) -> Flow[Audience]:
        """Send the mutation in requests of at most ``max_body_bytes``, one after another.

        Each request waits for the previous one's job to be done (a failed job raises
        ``MutationFailed``). A 413 from a server with a smaller limit halves the request.
        """
        limit = self.max_body_bytes
        accepted: Audience | None = None
        index = 0
        for batch in split_batches(add, remove, limit):
            pending = deque([batch])
            while pending:
                piece = pending.popleft()
                if piece.size > limit and len(piece) > 1:
                    pending.extendleft(
                        reversed(list(split_batches(piece.add, piece.remove, limit)))
                    )
                    continue
                if accepted is not None:
                    yield from self.wait_until_ready(vendor_id, settle_first=True)
                body = encode_batch(piece)
                try:
                    accepted = yield from self._mutate(
                        vendor_id, Call("POST", _users(vendor_id), body=body)
                    )
                except PayloadTooLarge:
                    if len(piece) < 2:
                        raise
                    limit = max(1, piece.size // 2)
                    pending.appendleft(piece)
                    continue
                if on_batch is not None:
                    on_batch(
                        BatchSent(index, len(piece.add), len(piece.remove), len(body), accepted)
                    )
                index += 1
        if accepted is None:
            raise _empty()
        if wait:
            return (yield from self.wait_until_ready(vendor_id, settle_first=True))
        return accepted

    def replace_users(
        self, vendor_id: str, users: Iterable[str], *, wait: bool = True
    ) -> Flow[Audience]:
        """One request (replace is atomic); a body over ``max_body_bytes`` is refused unsent."""
        listed = users if isinstance(users, list) else list(users)
        if not listed:
            raise _empty()
        body = encode_users(listed)
        if len(body) > self.max_body_bytes:
            raise PayloadTooLarge(
                413,
                PayloadTooLarge.CODE,
                [
                    f"the replace body would be {len(body)} bytes, over the "
                    f"{self.max_body_bytes}-byte limit; use add_and_remove_users"
                ],
            )
        call = Call("PUT", _users(vendor_id) + "/replace", body=body)
        accepted = yield from self._mutate(vendor_id, call, Replay.IF_NOT_APPLIED)
        if wait:
            return (yield from self.wait_until_ready(vendor_id, settle_first=True))
        return accepted

    def clear_users(self, vendor_id: str, *, wait: bool = True) -> Flow[Audience]:
        accepted = yield from self._mutate(vendor_id, Call("DELETE", _users(vendor_id) + "/clear"))
        if wait:
            return (yield from self.wait_until_ready(vendor_id, settle_first=True))
        return accepted

    # -- shared ------------------------------------------------------------------------
    def _send(self, call: Call, replay: Replay) -> Flow[Exchange]:
        return send(call, replay, self.policy, self.clock)

    def _mutate(self, vendor_id: str, call: Call, replay: Replay = Replay.ALWAYS) -> Flow[Audience]:
        """Send a mutation; 409 MUTATION_IN_PROGRESS waits for ready and tries again."""
        for conflicts in range(self.policy.max_conflict_waits + 1):
            exchange = yield from self._send(call, replay)
            if error_code(exchange.reply) != MutationInProgress.CODE:
                break
            if conflicts < self.policy.max_conflict_waits:
                yield from self.wait_until_ready(vendor_id, raise_on_failed=False)
        return _audience(expect_success(exchange.reply).content, exchange.reply.status)

    def _find(self, vendor_id: str) -> Flow[Audience | None]:
        try:
            return (yield from self.get_audience(vendor_id))
        except AudienceNotFound:
            return None


def _one(vendor_id: str) -> str:
    return "/" + quote(vendor_id, safe="")


def _users(vendor_id: str) -> str:
    return _one(vendor_id) + "/users"


def _audience(content: bytes, status: int) -> Audience:
    return decode(content, AudienceEnvelope, status=status).custom_audience


def _empty() -> EmptyPayload:
    return EmptyPayload(422, EmptyPayload.CODE, ["No users provided in the mutation request"])
