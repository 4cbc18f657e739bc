"""One request and its retries, free of I/O: the vocabulary shared by both clients.

An operation is a *flow*: a generator that yields ``Call`` (send this request) or
``Pause`` (sleep this long) and is sent back the ``Reply`` or ``Failure`` of each
``Call``. ``Client`` and ``AsyncClient`` only run flows, so retrying, polling and
splitting are written once, here and in ``flows``, and are tested without a network.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from custom_audiences.client.errors import ApiError, CustomAudiencesError, TransportError, error_for
from custom_audiences.client.models import decode_error
from custom_audiences.client.retry import RetryPolicy, retry_after_seconds

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """A request to send; ``path`` is relative to the app's ``.../custom_audiences``."""

    method: str
    path: str = ""
    params: Mapping[str, str | int] | None = None
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    seconds: float


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # case-insensitive (httpx.Headers)
    content: bytes


@dataclass(frozen=True, slots=True)
class Failure:
    """No response came back."""

    message: str
    #: The request may have reached the server (False: the connection was never made).
    maybe_sent: bool
    #: Trying again can help (False for e.g. an unsupported URL scheme).
    retryable: bool = True


Flow = Generator[Call | Pause, Reply | Failure | None, T]


class Replay(Enum):
    """Which failed attempts of a request may be sent again."""

    #: Reads, and mutations whose repetition changes nothing (add/remove, clear).
    ALWAYS = "always"
    #: Only attempts the server certainly did not act on: no connection, 429, 503.
    IF_NOT_APPLIED = "if_not_applied"


@dataclass(frozen=True, slots=True)
class Exchange:
    """The final reply to a request, and whether an earlier attempt may have been applied."""

    reply: Reply
    uncertain: bool


# 501 and 505 say the request can never work; the others are worth another attempt.
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses after which the API has certainly not acted: the rate limit is checked before
# the endpoint runs, and 503 means the database could not be reached.
_NOT_APPLIED_STATUSES = frozenset({429, 503})


def send(
    call: Call, replay: Replay, policy: RetryPolicy, clock: Callable[[], float]
) -> Flow[Exchange]:
    """Send ``call``, retrying 429, 5xx and transport failures within ``policy``.

    Returns the first reply that is not retried (success or not); raises the error of the
    last attempt when retries run out or ``replay`` forbids another attempt.
    """
    started = clock()
    uncertain = False
    attempt = 0
    while True:
        attempt += 1
        outcome = yield call
        assert outcome is not None
        if isinstance(outcome, Reply) and outcome.status not in _RETRYABLE_STATUSES:
            return Exchange(outcome, uncertain)
        error = _error_of(outcome)
        if isinstance(outcome, Failure):
            if not outcome.retryable:
                raise error
            maybe_applied = outcome.maybe_sent
        else:
            maybe_applied = outcome.status not in _NOT_APPLIED_STATUSES
        if maybe_applied and replay is Replay.IF_NOT_APPLIED:
            raise error
        delay = _delay(outcome, attempt, policy)
        if attempt >= policy.max_attempts or clock() - started + delay > policy.max_elapsed:
            raise error
        uncertain = uncertain or maybe_applied
        yield Pause(delay)


def _delay(outcome: Reply | Failure, attempt: int, policy: RetryPolicy) -> float:
    if isinstance(outcome, Reply) and outcome.status == 429:
        retry_after = retry_after_seconds(outcome.headers)
        if retry_after is not None:
            return retry_after
    return policy.backoff(attempt)


def _error_of(outcome: Reply | Failure) -> CustomAudiencesError:
    if isinstance(outcome, Failure):
        return TransportError(outcome.message)
    return api_error(outcome)


def api_error(reply: Reply) -> ApiError:
    """The typed exception for an error reply."""
    body = decode_error(reply.content)
    messages = list(body.messages)
    if not messages and reply.content:
        messages = [reply.content[:200].decode("utf-8", "replace")]
    code = body.code or f"HTTP_{reply.status}"
    return error_for(reply.status, code, messages, retry_after=retry_after_seconds(reply.headers))


def error_code(reply: Reply) -> str:
    return decode_error(reply.content).code if reply.status >= 400 else ""


def expect_success(reply: Reply) -> Reply:
    """The reply itself when it is a success (2xx), else raise its typed error."""
    if not 200 <= reply.status < 300:
        raise api_error(reply)
    return reply
