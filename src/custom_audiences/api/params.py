"""Query parameters, parsed by hand so that every bad value answers with our own codes."""

from __future__ import annotations

import re
from collections.abc import Mapping

from custom_audiences.errors import ValidationFailed
from custom_audiences.services.members import DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT

_DIGITS = re.compile(r"[0-9]+")
# Any page with more digits than this is past the end; the cap keeps int() cheap.
_MAX_PAGE_DIGITS = 18


def page_number(query: Mapping[str, str]) -> int:
    """``page``: a positive integer, 1 when absent."""
    raw = query.get("page")
    if raw is None:
        return 1
    value = _natural(raw, max_digits=_MAX_PAGE_DIGITS)
    if value is None or value == 0:
        raise ValidationFailed("page must be a positive integer")
    return value


def member_limit(query: Mapping[str, str]) -> int:
    """``limit``: an integer from 1 to 10,000, 1,000 when absent."""
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    value = _natural(raw, max_digits=len(str(MAX_LIMIT)))
    if value is None or not MIN_LIMIT <= value <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be an integer from {MIN_LIMIT} to {MAX_LIMIT}")
    return value


def member_cursor(query: Mapping[str, str]) -> str | None:
    """``cursor``: the last identifier of the previous page; absent or empty means the start.

    No identifier holds U+0000 (a control character), so the members after ``a\\x00...``
    are exactly those after ``a``: the cursor is cut there, which spares PostgreSQL a text
    value it cannot hold.
    """
    return (query.get("cursor") or "").split("\x00", 1)[0] or None


def _natural(raw: str, *, max_digits: int) -> int | None:
    """A non-negative decimal integer of ASCII digits, or None.

    Values longer than ``max_digits`` come back as ``10**max_digits``: past any page, over
    any limit, without converting an arbitrarily long string.
    """
    if not _DIGITS.fullmatch(raw):
        return None
    digits = raw.lstrip("0")
    if len(digits) > max_digits:
        beyond: int = 10**max_digits
        return beyond
    return int(digits or "0")
