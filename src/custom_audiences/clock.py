"""Ids and timestamps in the formats the API exposes and the database stores."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MILLISECOND = timedelta(milliseconds=1)


def new_id(prefix: str) -> str:
    """A random public id such as ``caud_3kq9...`` (prefix + 20 url-safe characters)."""
    return f"{prefix}_{secrets.token_urlsafe(15)}"


def utc_now() -> datetime:
    """The current UTC time, truncated to the millisecond that the API and the database keep."""
    return from_millis(to_millis(datetime.now(UTC)))


def to_millis(moment: datetime) -> int:
    """Whole milliseconds since the Unix epoch: how timestamps are stored."""
    return (moment - EPOCH) // ONE_MILLISECOND


def from_millis(millis: int) -> datetime:
    return EPOCH + millis * ONE_MILLISECOND


def format_timestamp(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and ``Z``: ``2026-03-13T12:00:00.000Z``."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
