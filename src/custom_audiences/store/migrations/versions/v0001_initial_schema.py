"""Initial schema: accounts, apps, API keys, audiences, members, jobs, stale generations.

Revision ID: 0001
Revises:
Create Date: 2026-12-03

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of store/tables.py's type choices: a revision must not change when the
# declared schema later does.
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IDENTIFIER = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
PENDING_JOB = "state IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "apps",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_apps_account_id", "apps", ["account_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_api_keys_app_id", "api_keys", ["app_id"])
    _create_audiences()
    op.create_table(
        "members",
        sa.Column("audience_pk", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("user_id", IDENTIFIER, nullable=False),
        sa.PrimaryKeyConstraint("audience_pk", "generation", "user_id", name="pk_members"),
        sqlite_with_rowid=False,
    )
    _create_jobs()
    op.create_table(
        "stale_generations",
        sa.Column("audience_pk", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("audience_pk", "generation", name="pk_stale_generations"),
    )


def _create_audiences() -> None:
    op.create_table(
        "audiences",
        sa.Column("pk", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("app_id", sa.String(40), sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("vendor_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("identifier_type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False, server_default="1"),
        sa.Column("user_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_synced_at", sa.BigInteger(), nullable=True),
        sa.Column("last_processed_count", sa.BigInteger(), nullable=True),
        sa.Column("last_skipped_count", sa.BigInteger(), nullable=True),
        sa.Column("last_error_count", sa.BigInteger(), nullable=True),
        sa.Column("last_replace_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("archived_at", sa.BigInteger(), nullable=True),
    )
    op.create_index(
        "ix_audiences_active_vendor_id",
        "audiences",
        ["app_id", "vendor_id"],
        unique=True,
        sqlite_where=sa.text("archived_at IS NULL"),
        postgresql_where=sa.text("archived_at IS NULL"),
    )
    op.create_index("ix_audiences_app_created", "audiences", ["app_id", "created_at", "id"])


def _create_jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("audience_pk", sa.BigInteger(), sa.ForeignKey("audiences.pk"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("add_ids", sa.Text(), nullable=True),
        sa.Column("remove_ids", sa.Text(), nullable=True),
        sa.Column("processed_count", sa.BigInteger(), nullable=False),
        sa.Column("skipped_count", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("worker_id", sa.String(80), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
    )
    op.create_index(
        "ix_jobs_one_pending_per_audience",
        "jobs",
        ["audience_pk"],
        unique=True,
        sqlite_where=sa.text(PENDING_JOB),
        postgresql_where=sa.text(PENDING_JOB),
    )
    op.create_index(
        "ix_jobs_pending",
        "jobs",
        ["id"],
        sqlite_where=sa.text(PENDING_JOB),
        postgresql_where=sa.text(PENDING_JOB),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Uncompressed, out of line: compressing 10 MB lists would slow down the 202.
        for column in ("add_ids", "remove_ids"):
            op.execute(f"ALTER TABLE jobs ALTER COLUMN {column} SET STORAGE EXTERNAL")


def downgrade() -> None:
    for table in ("stale_generations", "jobs", "members", "audiences", "api_keys", "apps"):
        op.drop_table(table)
    op.drop_table("accounts")
