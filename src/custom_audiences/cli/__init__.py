"""The ``custom-audiences`` command line: the server, the worker and the admin commands."""

from __future__ import annotations

import typer

from custom_audiences.cli import accounts, api_keys, apps, db, features
from custom_audiences.cli.serve import serve
from custom_audiences.cli.sync import sync_command
from custom_audiences.cli.worker import worker


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="custom-audiences",
        help="Custom Audiences: the API server, its worker, and the operator commands.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.command("sync")(sync_command)
    app.add_typer(db.build(), name="db")
    app.add_typer(accounts.build(), name="accounts")
    app.add_typer(features.build(), name="features")
    app.add_typer(apps.build(), name="apps")
    app.add_typer(api_keys.build(), name="api-keys")
    return app


def main() -> None:
    build_app()(prog_name="custom-audiences")
