"""accounts create, features enable/disable and apps create, in both output modes."""

from __future__ import annotations

from custom_audiences.store.base import Store

from .support import Cli, assert_one_line_error


def test_accounts_create_prints_one_json_object_with_the_new_id(cli: Cli, store: Store) -> None:
    """--json prints the account, whose id is acct_... and which is really stored."""
    account = cli.json("accounts", "create", "--name", "Acme")
    assert account["id"].startswith("acct_")
    assert account["name"] == "Acme"
    assert account["features"] == []
    assert store.get_account(account["id"]) is not None


def test_accounts_create_with_feature_enables_it(cli: Cli, store: Store) -> None:
    """--feature custom-audiences creates the account with the feature on."""
    account = cli.json("accounts", "create", "--name", "Acme", "--feature", "custom-audiences")
    assert account["features"] == ["custom-audiences"]
    stored = store.get_account(account["id"])
    assert stored is not None
    assert stored.features == frozenset({"custom-audiences"})


def test_accounts_create_human_output_names_the_id(cli: Cli, store: Store) -> None:
    """Without --json the result is a readable line holding the new id."""
    result = cli("accounts", "create", "--name", "Acme")
    assert result.exit_code == 0
    assert result.stdout.startswith("Created account acct_")
    account_id = result.stdout.split()[2]
    assert store.get_account(account_id) is not None


def test_accounts_create_rejects_an_unknown_feature(cli: Cli, store: Store) -> None:
    """An unknown feature is a one-line error and creates nothing."""
    result = cli("accounts", "create", "--name", "Acme", "--feature", "teleport")
    assert_one_line_error(result, "unknown feature", "teleport")
    assert not store.has_accounts()


def test_features_disable_then_enable_round_trips(cli: Cli, store: Store) -> None:
    """disable removes the feature, enable restores it, and repeating is harmless."""
    account_id = cli.json("accounts", "create", "--name", "A", "--feature", "custom-audiences")[
        "id"
    ]
    assert (
        cli.json("features", "disable", "--account", account_id, "custom-audiences")["features"]
        == []
    )
    assert (
        cli.json("features", "disable", "--account", account_id, "custom-audiences")["features"]
        == []
    )
    enabled = cli.json("features", "enable", "--account", account_id, "custom-audiences")
    assert enabled == {**enabled, "id": account_id, "features": ["custom-audiences"]}
    stored = store.get_account(account_id)
    assert stored is not None
    assert stored.features == frozenset({"custom-audiences"})


def test_features_human_output_says_what_changed(cli: Cli) -> None:
    """The readable result names the feature, the account and the resulting flags."""
    account_id = cli.json("accounts", "create", "--name", "A")["id"]
    result = cli("features", "enable", "--account", account_id, "custom-audiences")
    assert result.exit_code == 0
    assert result.stdout == (
        f"Enabled custom-audiences on account {account_id}; features: custom-audiences\n"
    )


def test_features_reject_unknown_account_and_unknown_feature(cli: Cli) -> None:
    """An unknown account id or feature name is a one-line error."""
    assert_one_line_error(
        cli("features", "enable", "--account", "acct_missing", "custom-audiences"),
        "acct_missing",
    )
    account_id = cli.json("accounts", "create", "--name", "A")["id"]
    assert_one_line_error(
        cli("features", "enable", "--account", account_id, "teleport"), "teleport"
    )


def test_apps_create_stores_an_app_under_the_account(cli: Cli, store: Store) -> None:
    """apps create prints app_... and the app belongs to the given account."""
    account_id = cli.json("accounts", "create", "--name", "A")["id"]
    app = cli.json("apps", "create", "--account", account_id, "--name", "iOS")
    assert app["id"].startswith("app_")
    assert app["account_id"] == account_id
    stored = store.get_app(app["id"])
    assert stored is not None
    assert (stored.account_id, stored.name) == (account_id, "iOS")
    human = cli("apps", "create", "--account", account_id, "--name", "Android")
    assert human.stdout.startswith("Created app app_")


def test_apps_create_rejects_an_unknown_account(cli: Cli) -> None:
    """An app cannot be created for an account that does not exist."""
    assert_one_line_error(
        cli("apps", "create", "--account", "acct_missing", "--name", "iOS"), "acct_missing"
    )


def test_names_are_printed_literally_not_as_markup(cli: Cli) -> None:
    """Square brackets in a name are shown as typed (no console markup applied)."""
    result = cli("accounts", "create", "--name", "[bold]Acme[/bold]")
    assert "([bold]Acme[/bold])" in result.stdout
