"""When and how long the SDK waits before trying again: retries and polling."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of one request, and the polling of ``wait_until_ready``.

    Server errors (5xx) and broken connections back off exponentially with full jitter,
    ``backoff_base * 2**(attempt-1)`` capped at ``backoff_max``; a 429 waits what its
    ``Retry-After`` says. Either way a request stops being retried after ``max_attempts``
    attempts or once waiting again would take it past ``max_elapsed`` seconds, so a 429
    asking for hours (the replace window) is raised at once rather than slept on.
    """

    max_attempts: int = 8
    max_elapsed: float = 120.0
    backoff_base: float = 0.5
    backoff_max: float = 15.0
    #: Polling of the audience while a mutation runs: first interval, growth, cap.
    poll_initial: float = 0.2
    poll_factor: float = 1.5
    poll_max: float = 5.0
    #: How long ``wait_until_ready`` waits by default before ``WaitTimeout``.
    wait_timeout: float = 600.0
    #: How many times a mutation meeting 409 MUTATION_IN_PROGRESS waits and tries again.
    max_conflict_waits: int = 5
    #: Source of jitter in [0, 1); injectable so tests are deterministic.
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based) after a 5xx or connection error."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        # Full jitter (uniform in [0, ceiling]) spreads out clients that failed together.
        return ceiling * self.jitter()

    def poll_delays(self) -> PollDelays:
        return PollDelays(self.poll_initial, self.poll_factor, self.poll_max)


@dataclass(slots=True)
class PollDelays:
    """Growing intervals between polls: short for quick jobs, few requests for long ones."""

    current: float
    factor: float
    ceiling: float

    def next(self) -> float:
        delay = self.current
        self.current = min(self.ceiling, self.current * self.factor)
        return delay


NO_RETRY = RetryPolicy(max_attempts=1, max_elapsed=0.0)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds when it is a number (the API sends whole seconds)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date: rare from this API; the caller falls back to backoff
    return max(0.0, seconds)
