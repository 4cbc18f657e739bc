"""An in-memory store with the same surface and behaviour as the SQL store, for unit tests.

It is the executable statement of the store contract: each method mirrors one transaction
of ``SqlStore`` under a single lock.
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from custom_audiences.domain.accounts import Account, ApiKey, App, KeyAccess
from custom_audiences.domain.audiences import (
    Audience,
    AudienceStatus,
    JobResult,
    NewAudience,
)
from custom_audiences.domain.mutations import Mutation, MutationKind, check_replace_allowed
from custom_audiences.errors import (
    AudienceNotFound,
    CannotArchiveWhileProcessing,
    MutationInProgress,
    ValidationFailed,
)
from custom_audiences.store.base import Job, LeaseLost, MemberPage


@dataclass
class _JobRow:
    job: Job
    mutation: Mutation
    state: str = "queued"  # queued | running | done | failed
    worker_id: str | None = None
    lease_until: datetime | None = None


@dataclass
class _Members:
    """Sorted members per (audience pk, generation)."""

    by_generation: dict[tuple[int, int], list[str]] = field(default_factory=dict)


class InMemoryStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._accounts: dict[str, Account] = {}
        self._apps: dict[str, App] = {}
        self._keys: dict[str, ApiKey] = {}
        self._audiences: dict[int, Audience] = {}
        self._jobs: dict[int, _JobRow] = {}
        self._members = _Members()
        self._stale: list[tuple[int, int]] = []

    # -- lifecycle -------------------------------------------------------------------
    def upgrade(self) -> None:
        pass

    def ping(self) -> None:
        pass

    def close(self) -> None:
        pass

    # -- accounts, apps, keys --------------------------------------------------------
    def has_accounts(self) -> bool:
        return bool(self._accounts)

    def add_account(self, account: Account) -> None:
        with self._lock:
            self._accounts[account.id] = account

    def get_account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def set_account_features(self, account_id: str, features: frozenset[str]) -> None:
        with self._lock:
            account = self._accounts[account_id]
            self._accounts[account_id] = dataclasses.replace(account, features=features)

    def add_app(self, app: App) -> None:
        with self._lock:
            self._apps[app.id] = app

    def get_app(self, app_id: str) -> App | None:
        return self._apps.get(app_id)

    def add_api_key(self, key: ApiKey) -> None:
        with self._lock:
            self._keys[key.id] = key

    def list_api_keys(self, app_id: str) -> list[ApiKey]:
        keys = [k for k in self._keys.values() if k.app_id == app_id]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey | None:
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                return None
            if key.revoked_at is None:
                key = self._keys[key_id] = dataclasses.replace(key, revoked_at=at)
            return key

    def find_key_access(self, token_hash: str) -> KeyAccess | None:
        for key in self._keys.values():
            if key.token_hash == token_hash:
                app = self._apps[key.app_id]
                features = self._accounts[app.account_id].features
                revoked = key.revoked_at is not None
                return KeyAccess(key.id, key.app_id, revoked, features, key.token_hash)
        return None

    # -- audiences -------------------------------------------------------------------
    def create_audience(
        self, app_id: str, new: NewAudience, audience_id: str, now: datetime
    ) -> Audience:
        with self._lock:
            if self._find(app_id, new.vendor_id) is not None:
                raise ValidationFailed("vendor_id is already used by another custom audience")
            audience = Audience(
                pk=len(self._audiences) + 1,
                id=audience_id,
                app_id=app_id,
                vendor_id=new.vendor_id,
                name=new.name,
                identifier_type=new.identifier_type,
                status=AudienceStatus.READY,
                user_count=0,
                generation=1,
                last_synced_at=None,
                last_job_result=None,
                created_at=now,
                updated_at=now,
            )
            self._audiences[audience.pk] = audience
            return audience

    def list_audiences(self, app_id: str, offset: int, limit: int) -> tuple[list[Audience], int]:
        active = sorted(
            (a for a in self._audiences.values() if a.app_id == app_id and a.archived_at is None),
            key=lambda a: (a.created_at, a.id),
        )
        return active[offset : offset + limit], len(active)

    def get_audience(self, app_id: str, vendor_id: str) -> Audience | None:
        return self._find(app_id, vendor_id)

    def archive_audience(self, app_id: str, vendor_id: str, now: datetime) -> Audience:
        with self._lock:
            audience = self._require(app_id, vendor_id)
            if audience.status is AudienceStatus.PROCESSING:
                raise CannotArchiveWhileProcessing
            self._audiences[audience.pk] = dataclasses.replace(audience, archived_at=now)
            return audience

    def enqueue_mutation(
        self,
        app_id: str,
        vendor_id: str,
        mutation: Mutation,
        now: datetime,
        replace_interval: timedelta,
    ) -> Audience:
        with self._lock:
            audience = self._require(app_id, vendor_id)
            if audience.status is AudienceStatus.PROCESSING:
                raise MutationInProgress
            last_replace_at = audience.last_replace_at
            if mutation.kind is MutationKind.REPLACE:
                check_replace_allowed(last_replace_at, now, replace_interval)
                last_replace_at = now
            job_id = len(self._jobs) + 1
            job = Job(
                job_id,
                audience.pk,
                mutation.kind,
                mutation.processed_count,
                mutation.skipped_count,
                attempts=0,
            )
            self._jobs[job_id] = _JobRow(job, mutation)
            audience = self._audiences[audience.pk] = dataclasses.replace(
                audience,
                status=AudienceStatus.PROCESSING,
                updated_at=now,
                last_replace_at=last_replace_at,
            )
            return audience

    def page_members(
        self, app_id: str, vendor_id: str, after: str | None, limit: int
    ) -> MemberPage:
        with self._lock:
            audience = self._require(app_id, vendor_id)
            members = self._members.by_generation.get((audience.pk, audience.generation), [])
            start = 0
            if after is not None:
                start = bisect.bisect_right(members, _sort_key(after), key=_sort_key)
            users = members[start : start + limit + 1]
            return MemberPage(audience, users[:limit], len(users) > limit)

    # -- jobs ------------------------------------------------------------------------
    def claim_job(self, worker_id: str, now: datetime, lease: timedelta) -> Job | None:
        with self._lock:
            for row in self._jobs.values():
                expired = (
                    row.state == "running" and row.lease_until is not None and row.lease_until < now
                )
                if row.state == "queued" or expired:
                    row.state, row.worker_id, row.lease_until = "running", worker_id, now + lease
                    row.job = dataclasses.replace(row.job, attempts=row.job.attempts + 1)
                    return row.job
            return None

    def renew_lease(self, job_id: int, worker_id: str, until: datetime) -> bool:
        with self._lock:
            row = self._jobs[job_id]
            if row.state != "running" or row.worker_id != worker_id:
                return False
            row.lease_until = until
            return True

    def apply_job(self, job: Job, worker_id: str, now: datetime) -> JobResult:
        with self._lock:
            row = self._jobs[job.id]
            if row.state != "running" or row.worker_id != worker_id:
                raise LeaseLost
            audience = self._audiences[job.audience_pk]
            key = (audience.pk, audience.generation)
            mutation = row.mutation
            if mutation.kind is MutationKind.ADD_REMOVE:
                members = set(self._members.by_generation.get(key, []))
                members.difference_update(mutation.remove)
                members.update(mutation.add)
                generation = audience.generation
                processed = mutation.processed_count
            else:
                members = set(mutation.add)
                generation = audience.generation + 1
                self._stale.append(key)
                processed = (
                    audience.user_count if mutation.kind is MutationKind.CLEAR else len(members)
                )
            self._members.by_generation[(audience.pk, generation)] = sorted(members, key=_sort_key)
            result = JobResult(processed, mutation.skipped_count, 0)
            self._audiences[audience.pk] = dataclasses.replace(
                audience,
                status=AudienceStatus.READY,
                generation=generation,
                user_count=len(members),
                last_synced_at=now,
                last_job_result=result,
                updated_at=now,
            )
            row.state = "done"
            return result

    def fail_job(self, job: Job, worker_id: str, now: datetime) -> None:
        with self._lock:
            row = self._jobs[job.id]
            if row.state != "running" or row.worker_id != worker_id:
                raise LeaseLost
            row.state = "failed"
            audience = self._audiences[job.audience_pk]
            self._audiences[audience.pk] = dataclasses.replace(
                audience,
                status=AudienceStatus.FAILED,
                last_job_result=JobResult(0, job.skipped_count, job.processed_count),
                updated_at=now,
            )

    def collect_garbage(self, batch_size: int) -> int:
        with self._lock:
            deleted = 0
            while self._stale and deleted < batch_size:
                key = self._stale[0]
                members = self._members.by_generation.get(key, [])
                take = min(batch_size - deleted, len(members))
                del members[:take]
                deleted += take
                if not members:
                    self._members.by_generation.pop(key, None)
                    self._stale.pop(0)
            return deleted

    # -- helpers ---------------------------------------------------------------------
    def _find(self, app_id: str, vendor_id: str) -> Audience | None:
        for audience in self._audiences.values():
            if (
                audience.app_id == app_id
                and audience.vendor_id == vendor_id
                and audience.archived_at is None
            ):
                return audience
        return None

    def _require(self, app_id: str, vendor_id: str) -> Audience:
        audience = self._find(app_id, vendor_id)
        if audience is None:
            raise AudienceNotFound
        return audience


def _sort_key(identifier: str) -> bytes:
    """Byte-wise order of the UTF-8 encoding, as the SQL stores compare identifiers."""
    return identifier.encode("utf-8")
