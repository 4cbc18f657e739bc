"""``custom-audiences features``: switch an account's feature flags on and off."""

from __future__ import annotations

from typing import Annotated

import typer

from custom_audiences.cli.accounts import account_json, features_text
from custom_audiences.cli.output import JsonFlag, admin_store, print_human, print_json

AccountOption = Annotated[str, typer.Option("--account", help="Account id (acct_...).")]
FeatureArgument = Annotated[str, typer.Argument(help="Feature name: custom-audiences.")]


def _set(account_id: str, feature: str, *, enabled: bool, as_json: bool) -> None:
    from custom_audiences.services.admin import set_feature

    with admin_store() as store:
        account = set_feature(store, account_id, feature, enabled=enabled)
    if as_json:
        print_json(account_json(account))
    else:
        verb = "Enabled" if enabled else "Disabled"
        print_human(f"{verb} {feature} on account {account.id}; features: {features_text(account)}")


def build() -> typer.Typer:
    group = typer.Typer(help="Feature flags of an account.", no_args_is_help=True)

    @group.command("enable")
    def enable(account: AccountOption, feature: FeatureArgument, as_json: JsonFlag = False) -> None:
        """Enable a feature for an account (idempotent)."""
        _set(account, feature, enabled=True, as_json=as_json)

    @group.command("disable")
    def disable(
        account: AccountOption, feature: FeatureArgument, as_json: JsonFlag = False
    ) -> None:
        """Disable a feature for an account (idempotent)."""
        _set(account, feature, enabled=False, as_json=as_json)

    return group
