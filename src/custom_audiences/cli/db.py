"""``custom-audiences db upgrade``: create or migrate the schema."""

from __future__ import annotations

import typer

from custom_audiences.cli.output import JsonFlag, admin_store, print_human, print_json


def build() -> typer.Typer:
    group = typer.Typer(help="Database schema.", no_args_is_help=True)

    @group.command("upgrade")
    def upgrade(as_json: JsonFlag = False) -> None:
        """Create or migrate the schema to the latest version (serve and worker also do it)."""
        with admin_store():
            pass  # opening the admin store is what migrates it
        if as_json:
            print_json({"upgraded": True})
        else:
            print_human("Database schema is up to date.")

    return group
