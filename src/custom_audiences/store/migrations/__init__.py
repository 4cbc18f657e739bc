"""Alembic migrations of the schema.

``env.py`` and ``versions/`` live inside the package so that an installed wheel carries them.
To author a revision, call ``alembic.command.revision(runner.config_for(connection), ...)``
and move ``HEAD_REVISION`` to it (a test checks the two agree).

Alembic and SQLAlchemy take about a second to import, so they are only imported when a
migration must actually run: a process whose database is already at ``HEAD_REVISION``
never loads them.
"""

from __future__ import annotations

#: The newest revision in ``versions/``.
HEAD_REVISION = "0001"


def upgrade_to_head(sqlalchemy_url: str) -> None:
    """Create or migrate the schema in one transaction; concurrent callers wait their turn."""
    from custom_audiences.store.migrations.runner import run_upgrade

    run_upgrade(sqlalchemy_url)
