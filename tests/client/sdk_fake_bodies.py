"""Bodies of the fake API's responses, and its checks of request bodies."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

if TYPE_CHECKING:
    from sdk_fake_api import Record

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def render(record: Record) -> dict[str, Any]:
    return {
        "id": f"caud_{record.pk}",
        "vendor_id": record.vendor_id,
        "name": record.name,
        "identifier_type": record.identifier_type,
        "user_count": len(record.members),
        "status": record.status,
        "last_synced_at": stamp(record.synced),
        "last_job_result": record.job_result,
        "created_at": stamp(record.created),
        "updated_at": stamp(record.updated),
    }


def stamp(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    moment = datetime(2026, 3, 13, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def envelope(status: int, record: Record) -> httpx.Response:
    return httpx.Response(status, json={"custom_audience": render(record)})


def error(status: int, code: str, *messages: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "messages": list(messages)}})


def not_found() -> httpx.Response:
    return error(404, "CUSTOM_AUDIENCE_NOT_FOUND", "No custom audience found with this vendor_id")


def parse_json(body: bytes) -> Any:
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return error(400, "INVALID_JSON", "Request body is not valid JSON")
    return data if isinstance(data, dict) else error(422, "INVALID_PAYLOAD", "not an object")


def strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def valid(users: list[str]) -> tuple[set[str], int]:
    valid = {u for u in users if 0 < len(u) <= 255 and not CONTROL.search(u)}
    return valid, len(users) - len([u for u in users if u in valid])


def result(processed: int, skipped: int, errors: int = 0) -> dict[str, int]:
    return {"processed_count": processed, "skipped_count": skipped, "error_count": errors}
