"""Column lists and the mapping of result rows to domain objects (timestamps are epoch ms)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from custom_audiences.clock import from_millis, to_millis
from custom_audiences.domain.accounts import Account, ApiKey, App
from custom_audiences.domain.audiences import (
    Audience,
    AudienceStatus,
    IdentifierType,
    JobResult,
)
from custom_audiences.domain.mutations import MutationKind
from custom_audiences.store.base import Job
from custom_audiences.store.sql.database import Row

ACCOUNT_COLUMNS = "id, name, features, created_at"
APP_COLUMNS = "id, account_id, name, created_at"
API_KEY_COLUMNS = "id, app_id, name, token_hash, created_at, revoked_at"
AUDIENCE_COLUMNS = (
    "pk, id, app_id, vendor_id, name, identifier_type, status, user_count, generation,"
    " last_synced_at, last_processed_count, last_skipped_count, last_error_count,"
    " created_at, updated_at, last_replace_at, archived_at"
)
JOB_COLUMNS = "id, audience_pk, kind, processed_count, skipped_count, attempts"


def millis(moment: datetime | None) -> int | None:
    return None if moment is None else to_millis(moment)


def moment(value: int | None) -> datetime | None:
    return None if value is None else from_millis(value)


def encode_features(features: frozenset[str]) -> str:
    return msgspec.json.encode(sorted(features)).decode()


def decode_features(text: str) -> frozenset[str]:
    return frozenset(msgspec.json.decode(text, type=list[str]))


def account(row: Row) -> Account:
    return Account(row[0], row[1], decode_features(row[2]), from_millis(row[3]))


def app(row: Row) -> App:
    return App(row[0], row[1], row[2], from_millis(row[3]))


def api_key(row: Row) -> ApiKey:
    return ApiKey(row[0], row[1], row[2], row[3], from_millis(row[4]), moment(row[5]))


def audience(row: Row) -> Audience:
    last_job_result = None if row[10] is None else JobResult(row[10], row[11], row[12])
    return Audience(
        pk=row[0],
        id=row[1],
        app_id=row[2],
        vendor_id=row[3],
        name=row[4],
        identifier_type=IdentifierType(row[5]),
        status=AudienceStatus(row[6]),
        user_count=row[7],
        generation=row[8],
        last_synced_at=moment(row[9]),
        last_job_result=last_job_result,
        created_at=from_millis(row[13]),
        updated_at=from_millis(row[14]),
        last_replace_at=moment(row[15]),
        archived_at=moment(row[16]),
    )


def job(row: Row) -> Job:
    return Job(row[0], row[1], MutationKind(row[2]), row[3], row[4], row[5])
