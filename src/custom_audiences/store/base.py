"""The storage port: the only way the rest of the service touches persistent state.

Every method is one transaction. Implementations: ``store.sql.SqlStore`` (SQLite and
PostgreSQL) and ``store.memory.InMemoryStore`` (the fake for unit tests). The contract
suite in ``tests/store/`` holds them all to the same behaviour.

Membership is versioned by *generation*: an audience's members are the rows of its
current generation. Clear and replace switch the audience to a fresh generation, so
their cost does not depend on the old membership; the old generation's rows are deleted
later, in small batches, by ``collect_garbage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from custom_audiences.domain.accounts import Account, ApiKey, App, KeyAccess
from custom_audiences.domain.audiences import Audience, JobResult, NewAudience
from custom_audiences.domain.mutations import Mutation, MutationKind


@dataclass(frozen=True, slots=True)
class MemberPage:
    """One page of ``List users``: the audience as read in the same snapshot."""

    audience: Audience
    users: list[str]
    has_more: bool


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed mutation job; its identifiers stay in the database until applied."""

    id: int
    audience_pk: int
    kind: MutationKind
    processed_count: int
    skipped_count: int
    attempts: int


class LeaseLost(Exception):
    """The job's lease passed to another worker; this worker's work was rolled back."""


class StoreUnavailable(Exception):
    """The database cannot be reached, is read-only or is out of space; retry later.

    Store implementations translate their driver's operational errors into this, so that
    the API answers 503 and the worker backs off, without either knowing the driver.
    """


class Store(Protocol):
    # -- lifecycle ---------------------------------------------------------------
    def upgrade(self) -> None:
        """Create or migrate the schema to the latest version."""

    def ping(self) -> None:
        """Raise if the database cannot be reached."""

    def close(self) -> None: ...

    # -- accounts, apps, keys ------------------------------------------------------
    def has_accounts(self) -> bool: ...

    def add_account(self, account: Account) -> None: ...

    def get_account(self, account_id: str) -> Account | None: ...

    def set_account_features(self, account_id: str, features: frozenset[str]) -> None: ...

    def add_app(self, app: App) -> None: ...

    def get_app(self, app_id: str) -> App | None: ...

    def add_api_key(self, key: ApiKey) -> None: ...

    def list_api_keys(self, app_id: str) -> list[ApiKey]: ...

    def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey | None:
        """Revoke a key (idempotent: an already revoked key keeps its first revocation time)."""

    def find_key_access(self, token_hash: str) -> KeyAccess | None:
        """The key with this token hash, with its app and its account's features."""

    # -- audiences -----------------------------------------------------------------
    def create_audience(
        self, app_id: str, new: NewAudience, audience_id: str, now: datetime
    ) -> Audience:
        """Insert a ready, empty audience.

        Raises ``ValidationFailed`` when an active audience of the app has this vendor_id.
        """

    def list_audiences(self, app_id: str, offset: int, limit: int) -> tuple[list[Audience], int]:
        """Active audiences, oldest first (created_at, then id), and their total count."""

    def get_audience(self, app_id: str, vendor_id: str) -> Audience | None:
        """The active audience with this vendor_id, or None (archived ones are absent)."""

    def archive_audience(self, app_id: str, vendor_id: str, now: datetime) -> Audience:
        """Archive and return the audience as it was before archiving.

        Raises ``AudienceNotFound`` or ``CannotArchiveWhileProcessing``.
        """

    def enqueue_mutation(
        self,
        app_id: str,
        vendor_id: str,
        mutation: Mutation,
        now: datetime,
        replace_interval: timedelta,
    ) -> Audience:
        """Durably record a mutation job and flip the audience to ``processing``, atomically.

        Raises ``AudienceNotFound``, ``MutationInProgress`` (a job is already pending),
        or ``RateLimitExceeded`` (a replace within ``replace_interval`` of the last accepted
        replace; checked after ``MutationInProgress``). Returns the audience as updated.
        """

    def page_members(
        self, app_id: str, vendor_id: str, after: str | None, limit: int
    ) -> MemberPage:
        """Members of the current generation in byte order, strictly after ``after``.

        Raises ``AudienceNotFound``.
        """

    # -- jobs (the worker's side) --------------------------------------------------
    def claim_job(self, worker_id: str, now: datetime, lease: timedelta) -> Job | None:
        """Take the oldest queued job, or one whose lease expired, and lease it to the worker."""

    def renew_lease(self, job_id: int, worker_id: str, until: datetime) -> bool:
        """Extend a lease; False when the job is no longer this worker's."""

    def apply_job(self, job: Job, worker_id: str, now: datetime) -> JobResult:
        """Apply the job in one transaction and set the audience ready with its result.

        Raises ``LeaseLost`` (nothing applied) when the job is no longer this worker's.
        """

    def fail_job(self, job: Job, worker_id: str, now: datetime) -> None:
        """Mark the job and its audience failed; the membership is left untouched."""

    def collect_garbage(self, batch_size: int) -> int:
        """Delete up to ``batch_size`` rows of superseded generations; return how many."""
