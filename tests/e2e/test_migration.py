"""Moving a stack from the dynamic resource to the plugin, and other ways two resources claim one connection.

amojo has one connection per (channel, account): when the engine connects a new resource and then
deletes an old one for the same account, that delete must not disconnect it. Each test runs a path a
user would take, under the real CLI against the emulator, and asserts what reached Kommo: every account
declared at the end is connected, and the emulator's log shows no disconnect of an account still
declared. The README's "Moving from the dynamic resource to the plugin" is run as written, in Python
and in YAML.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID
from emulator_helpers import stored
from pulumi import automation as auto

from kommo_provider import KommoChatChannelConnection
from kommo_provider.emulator import EmulatorServer
from stack_runner import PROJECT_NAME, LocalStack

pytestmark = pytest.mark.e2e

PASSPHRASE = "e2e-passphrase"
DYNAMIC_TYPE = "pulumi-python:dynamic/kommo:ChatChannelConnection"
PLUGIN_TYPE = "kommo:index:ChatChannelConnection"
ACCOUNTS = {"support": ACCOUNT_ID, "sales": OTHER_ACCOUNT_ID}
KEPT = "not disconnecting account"


def kommo() -> Any:
    """``pulumi_kommo``, the generated Python SDK, imported when a program runs: collecting this module
    needs no SDK, which only the ``sdk_examples`` fixture (through ``stack_factory``) installs."""
    return importlib.import_module("pulumi_kommo")


def dynamic_program(accounts: dict[str, str] = ACCOUNTS) -> Callable[[], None]:
    """The dynamic resource, its channel from stack config (``kommo:channelId`` ...), as the README shows."""

    def program() -> None:
        for name, account in accounts.items():
            conn = KommoChatChannelConnection(name, account_id=account, title=f"{name} desk")
            pulumi.export(name, conn.scope_id)

    return program


def plugin_program(
    accounts: dict[str, str] = ACCOUNTS,
    *,
    imports: dict[str, str] | None = None,
    aliases: dict[str, str] | None = None,
    provider: Callable[[], pulumi.ProviderResource | None] = lambda: None,
) -> Callable[[], None]:
    """The plugin's resource through ``pulumi_kommo``; the default provider reads the same stack config."""

    def program() -> None:
        chosen = provider()
        for name, account in accounts.items():
            opts = pulumi.ResourceOptions(
                provider=chosen,
                import_=(imports or {}).get(name),
                aliases=[(aliases or {})[name]] if name in (aliases or {}) else None,
            )
            conn = kommo().ChatChannelConnection(name, account_id=account, title=f"{name} desk", opts=opts)
            pulumi.export(name, conn.scope_id)

    return program


@pytest.fixture
def stack_factory(
    tmp_path: Path, emulator: EmulatorServer, pulumi_cli: Path, sdk_examples: Callable[[str], None]
) -> Iterator[Callable[..., LocalStack]]:
    """One stack (one backend, one name) that successive programs run on, configured as the README says."""
    sdk_examples("python")  # pulumi_kommo for the plugin's programs
    made: list[LocalStack] = []
    work = tmp_path / "work"
    work.mkdir()

    def make(program: Callable[[], None] | None, work_dir: Path = work) -> LocalStack:
        stack = LocalStack(
            "e2e", program, state_dir=tmp_path / "state", passphrase=PASSPHRASE, work_dir=work_dir
        )
        if not made:
            stack.set_config(
                {
                    "kommo:channelId": CHANNEL_ID,
                    "kommo:baseUrl": emulator.url,
                    "kommo:maxRequestsPerSecond": "0",
                }
            )
            stack.set_secret_config("kommo:channelSecret", CHANNEL_SECRET)
        made.append(stack)
        return stack

    yield make
    if made:
        with contextlib.suppress(auto.CommandError):
            made[-1].stack.destroy()


class Log:
    """The emulator's requests from a point on: what one step of a path sent to Kommo."""

    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator
        self.start = 0

    def mark(self) -> None:
        self.start = len(self.emulator.backend.requests())

    def sent(self) -> list[tuple[str, str]]:
        return [(r.method, r.path.rsplit("/", 1)[-1]) for r in self.emulator.backend.requests()[self.start :]]

    def disconnects(self) -> list[str]:
        """The accounts disconnected since the mark, in order."""
        requests = self.emulator.backend.requests()[self.start :]
        return [json.loads(r.body)["account_id"] for r in requests if r.path.endswith("/disconnect")]


@pytest.fixture
def log(emulator: EmulatorServer) -> Log:
    return Log(emulator)


def assert_all_connected(emulator: EmulatorServer, accounts: dict[str, str] = ACCOUNTS) -> None:
    for account in accounts.values():
        assert stored(emulator, CHANNEL_ID, account).connected, account


def types_in_state(stack: LocalStack) -> list[str]:
    deployment = stack.stack.export_stack().deployment or {}
    return sorted(
        r["type"] for r in deployment.get("resources", []) if r["type"] in (DYNAMIC_TYPE, PLUGIN_TYPE)
    )


def test_readme_path_in_python_imports_the_plugin_copies_and_drops_the_dynamic_ones(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log
) -> None:
    start = stack_factory(dynamic_program())
    start.stack.up()
    scope_ids = {name: str(value) for name, value in start.outputs().items()}
    assert_all_connected(emulator)
    log.mark()

    # Step 1: the plugin's resources, each adopting its connection by scope_id; the dynamic ones go.
    moved = stack_factory(plugin_program(imports=scope_ids))
    up = moved.stack.up()
    assert log.disconnects() == [], "no account still declared may be disconnected"
    assert_all_connected(emulator)
    assert types_in_state(moved) == [PLUGIN_TYPE, PLUGIN_TYPE]
    assert moved.outputs() == scope_ids
    for account in ACCOUNTS.values():  # each dropped copy says why it kept the connection
        assert f"{KEPT} {account}" in up.stdout

    # Step 2: the import options go; nothing is left to change.
    final = stack_factory(plugin_program())
    final.stack.preview(expect_no_changes=True)
    final.stack.refresh()
    assert log.disconnects() == []
    assert_all_connected(emulator)
    final.stack.destroy()
    assert sorted(log.disconnects()) == sorted(ACCOUNTS.values())


def test_readme_path_in_yaml_moves_the_same_stack_to_a_yaml_project(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log, tmp_path: Path
) -> None:
    start = stack_factory(dynamic_program())
    start.stack.up()
    scope_ids = {name: str(value) for name, value in start.outputs().items()}
    log.mark()

    project = tmp_path / "yaml"
    project.mkdir()
    shutil.copy2(tmp_path / "work" / "Pulumi.e2e.yaml", project)  # the stack's config goes along
    resources = {
        name: {
            "type": PLUGIN_TYPE,
            "properties": {"accountId": account, "title": f"{name} desk"},
            "options": {"import": scope_ids[name]},
        }
        for name, account in ACCOUNTS.items()
    }
    source = {
        "name": PROJECT_NAME,
        "runtime": "yaml",
        "resources": resources,
        "outputs": {name: f"${{{name}.scopeId}}" for name in ACCOUNTS},
    }
    (project / "Pulumi.yaml").write_text(json.dumps(source))
    moved = stack_factory(None, work_dir=project)
    moved.stack.up()
    assert log.disconnects() == []
    assert_all_connected(emulator)
    assert types_in_state(moved) == [PLUGIN_TYPE, PLUGIN_TYPE]

    for spec in resources.values():
        del spec["options"]
    (project / "Pulumi.yaml").write_text(json.dumps(source))
    moved.stack.preview(expect_no_changes=True)
    assert log.disconnects() == []
    assert_all_connected(emulator)


def test_replacing_the_class_in_one_up_without_import_keeps_every_account_connected(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log
) -> None:
    stack_factory(dynamic_program()).stack.up()
    log.mark()
    stack_factory(plugin_program()).stack.up()  # connect (idempotent), then drop the dynamic copies
    assert log.disconnects() == []
    assert_all_connected(emulator)


def test_adding_the_plugin_copies_first_and_dropping_the_dynamic_ones_next(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log
) -> None:
    dynamic, plugin = dynamic_program(), plugin_program({f"{k}-new": v for k, v in ACCOUNTS.items()})

    def both() -> None:
        dynamic()
        plugin()

    stack_factory(dynamic).stack.up()
    stack_factory(both).stack.up()
    log.mark()
    stack_factory(plugin).stack.up()  # a later run: the plugin copies are unchanged, only diffed
    assert log.disconnects() == []
    assert_all_connected(emulator)


def test_an_alias_to_the_dynamic_resource_keeps_every_account_connected(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log
) -> None:
    start = stack_factory(dynamic_program())
    start.stack.up()
    urns = {
        r["urn"].rsplit("::", 1)[1]: r["urn"]
        for r in (start.stack.export_stack().deployment or {})["resources"]
        if r["type"] == DYNAMIC_TYPE
    }
    log.mark()
    moved = stack_factory(plugin_program(aliases=urns))
    moved.stack.up()
    assert log.disconnects() == []
    assert_all_connected(emulator)
    assert types_in_state(moved) == [PLUGIN_TYPE, PLUGIN_TYPE]


def test_one_account_through_two_providers_then_one_copy_removed(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log
) -> None:
    """An explicit provider and the default one, both for the channel: dropping either copy warns and
    keeps the account connected for the other."""

    def explicit() -> pulumi.ProviderResource:
        provider: pulumi.ProviderResource = kommo().Provider(
            "channel",
            channel_id=CHANNEL_ID,
            channel_secret=pulumi.Output.secret(CHANNEL_SECRET),
            base_url=emulator.url,
            max_requests_per_second=0,
        )
        return provider

    via_default = plugin_program({"support": ACCOUNT_ID})
    via_explicit = plugin_program({"support-too": ACCOUNT_ID}, provider=explicit)

    def both() -> None:
        via_default()
        via_explicit()

    stack_factory(both).stack.up()
    log.mark()
    up = stack_factory(via_explicit).stack.up()
    assert log.disconnects() == []
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    assert KEPT in up.stdout


def test_renaming_a_resource_without_an_alias_keeps_its_account_connected(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log
) -> None:
    stack_factory(plugin_program({"support": ACCOUNT_ID})).stack.up()
    log.mark()
    stack_factory(plugin_program({"help-desk": ACCOUNT_ID})).stack.up()
    assert log.disconnects() == []
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_dropping_the_only_copy_still_disconnects(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log
) -> None:
    """The guard is about connections still declared: an account the program no longer names goes."""
    stack_factory(plugin_program()).stack.up()
    log.mark()
    stack_factory(plugin_program({"support": ACCOUNT_ID})).stack.up()
    assert log.disconnects() == [OTHER_ACCOUNT_ID]
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_case_of_an_account_id_is_no_change(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log
) -> None:
    """Imported in upper case, declared in lower case: no replacement, nothing sent."""
    stack_factory(plugin_program({"support": ACCOUNT_ID.upper()})).stack.up()
    log.mark()
    stack = stack_factory(plugin_program({"support": ACCOUNT_ID}))
    stack.stack.preview(expect_no_changes=True)
    stack.stack.up()
    assert log.sent() == []
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_import_by_an_upper_case_scope_id_then_a_lower_case_program_is_no_change(
    stack_factory: Callable[..., LocalStack], emulator: EmulatorServer, log: Log, tmp_path: Path
) -> None:
    """``pulumi import`` with the id as typed keeps the canonical (lower-case) id and account."""
    project = tmp_path / "yaml"
    project.mkdir()
    source: dict[str, object] = {"name": PROJECT_NAME, "runtime": "yaml", "resources": {}}
    (project / "Pulumi.yaml").write_text(json.dumps(source))
    stack = stack_factory(None, work_dir=project)
    stack.stack.up()
    typed = f"{CHANNEL_ID.upper()}_{ACCOUNT_ID.upper()}"
    stack.run_cli(
        ["import", PLUGIN_TYPE, "support", typed, "--yes", "--protect=false", "--stack", stack.name]
    )
    [imported] = [
        r for r in (stack.stack.export_stack().deployment or {})["resources"] if r["type"] == PLUGIN_TYPE
    ]
    assert imported["id"] == f"{CHANNEL_ID}_{ACCOUNT_ID}" and imported["outputs"]["accountId"] == ACCOUNT_ID
    source["resources"] = {"support": {"type": PLUGIN_TYPE, "properties": {"accountId": ACCOUNT_ID}}}
    (project / "Pulumi.yaml").write_text(json.dumps(source))
    log.mark()
    stack.stack.up()  # one reconnect for what import cannot read (hookApiVersion), never a replacement
    assert log.sent() == [("POST", "connect")]
    stack.stack.preview(expect_no_changes=True)
