"""The API against a plain model of its contract, over random sequences of calls, per engine.

``CUSTOM_AUDIENCES_MODEL_EXAMPLES`` sets how many sequences are tried (``make fuzz`` raises it).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import engine
from hypothesis.stateful import run_state_machine_as_test

from .harness import Harness
from .machine import ApiMachine

EXAMPLES = int(os.environ.get("CUSTOM_AUDIENCES_MODEL_EXAMPLES", "12"))
#: Hypothesis shrinks a failure for up to 300 s, as long as the suite's per-test timeout,
#: which would then swallow the report; a minute of shrinking is plenty for these runs.
SHRINK_SECONDS = 60


@pytest.fixture(autouse=True)
def bounded_shrinking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "MAX_SHRINKING_SECONDS", SHRINK_SECONDS, raising=False)


def test_every_response_matches_the_model(harness: Harness) -> None:
    """Every status, body, count, order and cursor agrees with the model, step after step."""
    run_state_machine_as_test(
        lambda: ApiMachine(harness),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
