"""Worker settings from the environment: lease and poll interval, embedded worker per engine."""

from __future__ import annotations

import pytest

from custom_audiences.config import Settings

SQLITE = {"CUSTOM_AUDIENCES_DATABASE_URL": "sqlite:///x.db"}
POSTGRES = {"CUSTOM_AUDIENCES_DATABASE_URL": "postgresql://u@h/db"}


def test_defaults_are_a_60_second_lease_and_a_1_second_poll() -> None:
    """Unset or empty variables keep the defaults."""
    for environ in ({}, {"CUSTOM_AUDIENCES_WORKER_LEASE_SECONDS": ""}):
        settings = Settings.from_env(environ)
        assert (settings.worker_lease_seconds, settings.worker_poll_seconds) == (60.0, 1.0)


def test_lease_and_poll_take_fractional_seconds() -> None:
    """Tests (and impatient operators) may set sub-second values."""
    settings = Settings.from_env(
        {
            "CUSTOM_AUDIENCES_WORKER_LEASE_SECONDS": "2.5",
            "CUSTOM_AUDIENCES_WORKER_POLL_SECONDS": "0.2",
        }
    )
    assert (settings.worker_lease_seconds, settings.worker_poll_seconds) == (2.5, 0.2)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
@pytest.mark.parametrize("name", ["WORKER_LEASE_SECONDS", "WORKER_POLL_SECONDS"])
def test_a_non_positive_or_non_numeric_value_is_refused(name: str, value: str) -> None:
    """The error names the variable, so the one-line CLI error says what to fix."""
    with pytest.raises(ValueError, match=f"CUSTOM_AUDIENCES_{name} must be a positive"):
        Settings.from_env({f"CUSTOM_AUDIENCES_{name}": value})


@pytest.mark.parametrize(
    ("environ", "embedded"),
    [
        (SQLITE, True),
        (POSTGRES, False),
        (POSTGRES | {"CUSTOM_AUDIENCES_EMBEDDED_WORKER": "1"}, True),
        (SQLITE | {"CUSTOM_AUDIENCES_EMBEDDED_WORKER": "0"}, False),
    ],
)
def test_the_embedded_worker_defaults_by_engine(environ: dict[str, str], embedded: bool) -> None:
    """serve runs a worker on SQLite and none on PostgreSQL, unless told otherwise."""
    assert Settings.from_env(environ).runs_embedded_worker is embedded
