"""The ``kommo`` plugin under the real CLI and Pulumi YAML's language host, against the emulator.

Each test writes a Pulumi YAML program (JSON is YAML) into a temporary project, runs it on a local
file backend as a user would, and checks what reached the emulator and what landed in state. The
CLI finds the plugin as ``pulumi-resource-kommo`` beside this interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID
from emulator_helpers import stored
from pulumi import automation as auto
from yaml_stack import PASSPHRASE, YamlStack, yaml_stacks

from kommo_provider.client import ChatApiClient
from kommo_provider.emulator import (
    DEMO_ACCOUNTS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    EmulatorServer,
)
from kommo_provider.payloads import ChannelCredentials
from stack_runner import PROJECT_DIR, LocalStack

pytestmark = pytest.mark.e2e

CONNECTION_TYPE = "kommo:index:ChatChannelConnection"
PROVIDER_TYPE = "pulumi:providers:kommo"
OTHER_CHANNEL_ID = "2e7c9a14-b3d5-4f68-9a01-c4e8b2d7f639"
OTHER_CHANNEL_SECRET = "e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d2c1b"
ROTATED_SECRET = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
LOCAL_STACK_FILES = shutil.ignore_patterns("Pulumi.*.yaml")
"""A user's own stack config files beside the example are not part of it."""


def program(
    base_url: str,
    accounts: dict[str, dict[str, Any]],
    *,
    channel_id: str = CHANNEL_ID,
    secret: str = CHANNEL_SECRET,
    plain_secret: bool = False,
    explicit_provider: bool = True,
) -> dict[str, Any]:
    """A Pulumi YAML program: a provider for the channel and one connection per account entry."""
    resources: dict[str, Any] = {}
    if explicit_provider:
        resources["channel"] = {
            "type": PROVIDER_TYPE,
            "properties": {
                "channelId": channel_id,
                "channelSecret": secret if plain_secret else {"fn::secret": secret},
                "baseUrl": base_url,
                "maxRequestsPerSecond": 0,
            },
        }
    for name, props in accounts.items():
        resources[name] = {"type": CONNECTION_TYPE, "properties": props}
        if explicit_provider:
            resources[name]["options"] = {"provider": "${channel}"}
    return {
        "name": "kommo-e2e",
        "runtime": "yaml",
        "resources": resources,
        "outputs": {name: f"${{{name}.scopeId}}" for name in accounts},
    }


@pytest.fixture
def make_stack(tmp_path: Path, pulumi_cli: Path) -> Iterator[Callable[[dict[str, Any]], YamlStack]]:
    with yaml_stacks(tmp_path) as make:  # each one destroyed at the end: no connection left behind
        yield make


def requests_seen(emulator: EmulatorServer) -> list[tuple[str, str, int]]:
    return [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in emulator.backend.requests()]


def two_accounts(**overrides: Any) -> dict[str, Any]:
    """Connection ``a``, and ``b`` whose reconnectTriggers are fed a's scopeId (a downstream consumer)."""
    accounts: dict[str, dict[str, Any]] = {
        "a": {"accountId": ACCOUNT_ID, "title": "Support bot"},
        "b": {"accountId": OTHER_ACCOUNT_ID, "title": "Sales bot", "reconnectTriggers": ["${a.scopeId}"]},
    }
    for name, props in overrides.items():
        accounts[name] = {**accounts[name], **props}
    return accounts


def test_preview_up_refresh_update_destroy(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(program(emulator.url, two_accounts()))

    preview = stack.stack.preview()
    assert preview.change_summary == {"create": 4}
    assert emulator.backend.requests() == [], "preview must not call the Chat API"

    stack.stack.up()
    scopes = {c.account_id: c.scope_id for c in emulator.backend.connections()}
    assert stack.outputs() == {"a": scopes[ACCOUNT_ID], "b": scopes[OTHER_ACCOUNT_ID]}
    assert stored(emulator, CHANNEL_ID, OTHER_ACCOUNT_ID).title == "Sales bot"

    emulator.backend.reset()
    stack.stack.refresh()
    assert emulator.backend.requests() == [], "refresh must not call the Chat API"
    stack.stack.preview(expect_no_changes=True)

    # A title change previews as one update; b, fed a's scopeId, stays unchanged: scopeId stays known.
    stack.write(program(emulator.url, two_accounts(a={"title": "Support desk"})))
    preview = stack.stack.preview(diff=True)
    assert preview.change_summary == {"same": 3, "update": 1}
    assert '~ title: "Support bot" => "Support desk"' in preview.stdout
    up = stack.stack.up()
    assert up.summary.resource_changes == {"same": 3, "update": 1}
    assert requests_seen(emulator) == [("POST", "connect", 200)]
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).title == "Support desk"
    assert stack.outputs()["a"] == scopes[ACCOUNT_ID]

    stack.stack.destroy()
    assert emulator.backend.connections() == []
    assert sorted(requests_seen(emulator)[1:]) == [("DELETE", "disconnect", 200)] * 2
    assert stack.resources(CONNECTION_TYPE) == []


def test_account_change_replaces(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(program(emulator.url, {"a": {"accountId": ACCOUNT_ID}}))
    stack.stack.up()
    stack.write(program(emulator.url, {"a": {"accountId": OTHER_ACCOUNT_ID}}))
    assert stack.stack.up().summary.resource_changes == {"same": 2, "replace": 1}
    assert stored(emulator, CHANNEL_ID, OTHER_ACCOUNT_ID).connected
    assert not stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    assert stack.outputs()["a"] == f"{CHANNEL_ID}_{OTHER_ACCOUNT_ID}"


def test_provider_channel_change_replaces_its_connections(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    emulator.backend.add_channel(OTHER_CHANNEL_ID, OTHER_CHANNEL_SECRET)
    accounts = {"a": {"accountId": ACCOUNT_ID}, "b": {"accountId": OTHER_ACCOUNT_ID}}
    stack = make_stack(program(emulator.url, accounts))
    stack.stack.up()
    stack.write(program(emulator.url, accounts, channel_id=OTHER_CHANNEL_ID, secret=OTHER_CHANNEL_SECRET))
    assert stack.stack.preview().change_summary == {"same": 1, "replace": 3}
    assert stack.stack.up().summary.resource_changes == {"same": 1, "replace": 3}
    for account in (ACCOUNT_ID, OTHER_ACCOUNT_ID):
        assert stored(emulator, OTHER_CHANNEL_ID, account).connected
        assert not stored(emulator, CHANNEL_ID, account).connected
    assert stack.outputs() == {
        "a": f"{OTHER_CHANNEL_ID}_{ACCOUNT_ID}",
        "b": f"{OTHER_CHANNEL_ID}_{OTHER_ACCOUNT_ID}",
    }


def test_one_stack_connects_accounts_to_two_channels(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    emulator.backend.add_channel(OTHER_CHANNEL_ID, OTHER_CHANNEL_SECRET)
    source = program(emulator.url, {"a": {"accountId": ACCOUNT_ID}})
    second = program(emulator.url, {"b": {"accountId": ACCOUNT_ID}}, channel_id=OTHER_CHANNEL_ID,
                      secret=OTHER_CHANNEL_SECRET)  # fmt: skip
    source["resources"]["other"] = second["resources"]["channel"]
    source["resources"]["b"] = {**second["resources"]["b"], "options": {"provider": "${other}"}}
    source["outputs"]["b"] = "${b.scopeId}"
    stack = make_stack(source)
    stack.stack.up()
    assert stack.outputs() == {"a": f"{CHANNEL_ID}_{ACCOUNT_ID}", "b": f"{OTHER_CHANNEL_ID}_{ACCOUNT_ID}"}
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    assert stored(emulator, OTHER_CHANNEL_ID, ACCOUNT_ID).connected
    stack.stack.destroy()
    assert emulator.backend.connections() == []


def test_provider_host_change_disconnects_first_and_ends_connected(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(program(emulator.url, {"a": {"accountId": ACCOUNT_ID}}))
    stack.stack.up()
    emulator.backend.reset()
    other_host = emulator.url.replace("127.0.0.1", "localhost")  # same server, another base URL
    stack.write(program(other_host, {"a": {"accountId": ACCOUNT_ID}}))
    # The provider is updated in place (it is never deleted before its replacement: a connection left
    # pending a replacement must still find it); the connection replaces itself, disconnecting first.
    assert stack.stack.up().summary.resource_changes == {"same": 1, "update": 1, "replace": 1}
    assert requests_seen(emulator) == [("DELETE", "disconnect", 200), ("POST", "connect", 200)]
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_a_host_change_whose_new_connect_fails_leaves_a_stack_every_command_still_runs_on(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(program(emulator.url, {"a": {"accountId": ACCOUNT_ID}}))
    stack.stack.up()
    other_host = emulator.url.replace("127.0.0.1", "localhost")
    stack.write(program(other_host, {"a": {"accountId": ACCOUNT_ID}}))
    emulator.faults.script(["ok"] + ["500"] * 20)  # the disconnect goes through; the new connect fails
    with pytest.raises(auto.CommandError) as info:
        stack.stack.up()
    assert "connecting account" in str(info.value) and "could not find provider" not in str(info.value)
    emulator.faults.clear()
    # Kommo and state agree: the account is disconnected, and state holds it pending its replacement,
    # through the provider that still exists. Every command runs; the next `up` connects it.
    assert not stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    [pending] = stack.resources(CONNECTION_TYPE)
    assert pending.get("pendingReplacement") is True
    planned = {getattr(op, "value", op): count for op, count in stack.stack.preview().change_summary.items()}
    assert planned.get("replace", 0) + planned.get("create-replacement", 0) == 1, planned
    stack.stack.refresh()
    assert stack.stack.up().summary.resource_changes == {"same": 2, "replace": 1}
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    stack.stack.preview(expect_no_changes=True)
    stack.stack.destroy()
    assert emulator.backend.connections() == []


def test_rotated_secret_reconnects_in_place_and_later_disconnects_sign_with_it(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    accounts = {"a": {"accountId": ACCOUNT_ID}, "b": {"accountId": OTHER_ACCOUNT_ID}}
    stack = make_stack(program(emulator.url, accounts))
    stack.stack.up()
    emulator.backend.add_channel(CHANNEL_ID, ROTATED_SECRET)  # Kommo now knows only the new secret
    emulator.backend.reset()
    stack.write(program(emulator.url, accounts, secret=ROTATED_SECRET))
    up = stack.stack.up()
    assert up.summary.resource_changes == {"same": 1, "update": 3}
    assert sorted(requests_seen(emulator)) == [("POST", "connect", 200)] * 2
    stack.stack.destroy()
    assert sorted(requests_seen(emulator)[2:]) == [("DELETE", "disconnect", 200)] * 2
    assert emulator.backend.connections() == []


def test_import_adopts_a_connection_made_outside_pulumi(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer, tmp_path: Path
) -> None:
    """The default provider from stack config; `pulumi import` by scopeId; destroy disconnects."""
    made = subprocess.run(
        [str(Path(sys.executable).parent / "kommo-chat"), "connect", "--channel-id", CHANNEL_ID,
         "--account-id", ACCOUNT_ID, "--title", "Made by hand", "--base-url", emulator.url, "--json"],
        env={**os.environ, "KOMMO_CHANNEL_SECRET": CHANNEL_SECRET},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    scope_id = json.loads(made.stdout)["scope_id"]
    emulator.backend.reset()

    stack = make_stack(program(emulator.url, {}, explicit_provider=False))
    stack.local.set_config({"kommo:channelId": CHANNEL_ID, "kommo:baseUrl": emulator.url})
    stack.local.set_secret_config("kommo:channelSecret", CHANNEL_SECRET)
    stack.stack.up()

    refused = subprocess.run(
        [*_cli(stack), "import", CONNECTION_TYPE, "odd", "not-a-scope-id", "--yes", "--protect=false"],
        capture_output=True, text=True, env=_env(stack), cwd=stack.dir, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "is not shaped '<channel_id>_<account_id>'" in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr

    generated = tmp_path / "imported.yaml"
    stack.local.run_cli(
        ["import", CONNECTION_TYPE, "adopted", scope_id, "--yes", "--protect=false", "--out", str(generated)]
    )
    assert emulator.backend.requests() == [], "import must only read what the id says"
    [imported] = stack.resources(CONNECTION_TYPE)
    assert imported["id"] == scope_id and imported["outputs"]["accountId"] == ACCOUNT_ID
    assert ACCOUNT_ID in generated.read_text()

    # The program takes the connection over; its title applies with one reconnect.
    stack.write(program(emulator.url, {"adopted": {"accountId": ACCOUNT_ID, "title": "Support bot"}},
                        explicit_provider=False))  # fmt: skip
    assert stack.stack.up().summary.resource_changes == {"same": 1, "update": 1}  # the stack, the connection
    assert requests_seen(emulator) == [("POST", "connect", 200)]
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).title == "Support bot"
    stack.stack.destroy()
    assert requests_seen(emulator)[-1] == ("DELETE", "disconnect", 200)
    assert not stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_the_import_option_adopts_by_scope_id(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    client = ChatApiClient(emulator.url, max_requests_per_second=0)
    made = client.connect(ChannelCredentials(CHANNEL_ID, CHANNEL_SECRET), ACCOUNT_ID, title="Old")
    scope_id = made.scope_id
    emulator.backend.reset()
    source = program(emulator.url, {"a": {"accountId": ACCOUNT_ID, "title": "Support bot"}})
    source["resources"]["a"]["options"]["import"] = scope_id
    stack = make_stack(source)
    up = stack.stack.up()
    assert up.summary.resource_changes == {"create": 2, "import": 1, "update": 1}
    assert requests_seen(emulator) == [("POST", "connect", 200)]  # the program's title, applied once
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).title == "Support bot"
    assert stack.outputs() == {"a": scope_id}
    source["resources"]["a"]["options"].pop("import")
    stack.write(source)
    stack.stack.preview(expect_no_changes=True)


def _cli(stack: YamlStack) -> list[str]:
    return [str(stack.local.bin_dir / "pulumi"), "--non-interactive"]


def _env(stack: YamlStack) -> dict[str, str]:
    env = {**os.environ, **stack.local.env}
    env["PATH"] = f"{stack.local.bin_dir}{os.pathsep}{env['PATH']}"
    return env


def test_destroy_after_kommo_forgot_the_channel_warns_and_succeeds(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    """The plugin's warnings reach the user through the engine (a plugin's stderr is hidden)."""
    emulator.backend.add_channel(OTHER_CHANNEL_ID, OTHER_CHANNEL_SECRET)
    stack = make_stack(
        program(
            emulator.url,
            {"a": {"accountId": ACCOUNT_ID}},
            channel_id=OTHER_CHANNEL_ID,
            secret=OTHER_CHANNEL_SECRET,
        )
    )
    stack.stack.up()
    emulator.backend.remove_channel(OTHER_CHANNEL_ID)
    destroy = stack.stack.destroy()
    assert destroy.summary.result == "succeeded"
    warning = f"channel {OTHER_CHANNEL_ID} is unknown at {emulator.url}; treating account {ACCOUNT_ID}"
    assert f"{warning} as disconnected" in destroy.stdout
    assert requests_seen(emulator)[-1] == ("DELETE", "disconnect", 404)
    assert stack.resources(CONNECTION_TYPE) == []


def test_wrong_secret_fails_in_one_line_and_leaves_nothing(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    wrong = "0" * 40
    stack = make_stack(program(emulator.url, {"a": {"accountId": ACCOUNT_ID}}, secret=wrong))
    with pytest.raises(auto.CommandError) as info:
        stack.stack.up()
    text = str(info.value)
    diagnostics = text.partition("Diagnostics:")[2].partition("Resources:")[0]
    [line] = [ln.strip() for ln in diagnostics.splitlines() if "rejected the request signature" in ln]
    assert line.startswith(f"error: connecting account {ACCOUNT_ID} to channel {CHANNEL_ID} failed")
    assert "Traceback" not in text and wrong not in text and CHANNEL_SECRET not in text
    assert stack.resources(CONNECTION_TYPE) == []
    assert emulator.backend.connections() == []


def test_bad_inputs_fail_at_preview_naming_each_field(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(program(emulator.url, {"a": {"accountId": f"{ACCOUNT_ID}\n", "hookApiVersion": "v3"}}))
    with pytest.raises(auto.CommandError) as info:
        stack.stack.preview()
    text = str(info.value)
    assert "accountId must be a UUID string" in text and "hookApiVersion must be 'v1' or 'v2'" in text
    assert "Traceback" not in text
    stack.write(program(emulator.url, {"a": {"accountId": ACCOUNT_ID}}))
    source = json.loads((stack.dir / "Pulumi.yaml").read_text())
    source["resources"]["channel"]["properties"]["maxRetries"] = 2.5
    stack.write(source)
    with pytest.raises(auto.CommandError) as info:
        stack.stack.preview()
    assert "maxRetries must be a whole number from 0 to 20, got 2.5" in str(info.value)
    assert emulator.backend.requests() == []


def test_secret_is_only_ciphertext_in_the_backend_even_given_as_plain_text(
    make_stack: Callable[[dict[str, Any]], YamlStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(program(emulator.url, {"a": {"accountId": ACCOUNT_ID}}, plain_secret=True))
    up = stack.stack.up(log_verbosity=9, log_to_std_err=True, debug=True)
    export = stack.local.run_cli(["stack", "export", "--stack", stack.local.name]).stdout
    [provider] = [r for r in json.loads(export)["deployment"]["resources"] if r["type"] == PROVIDER_TYPE]
    assert "ciphertext" in provider["inputs"]["channelSecret"]
    destroy = stack.stack.destroy(log_verbosity=9, log_to_std_err=True, debug=True)
    assert len(up.stderr) > 10_000, "verbose engine log captured"
    for where, text in {
        "up output": up.stdout + up.stderr,
        "destroy output": destroy.stdout + destroy.stderr,
        "stack export": export,
        "backend files": stack.stored_text(),
    }.items():
        assert CHANNEL_SECRET not in text, f"secret in plaintext in {where}"


@pytest.mark.usefixtures("pulumi_cli")
def test_the_yaml_example_runs_as_written(tmp_path: Path) -> None:
    """examples/yaml, copied as a user would, against an emulator with the public demo channel and both
    demo accounts: one provider with accessTokens; each account looked up and connected, its source and
    webhook made in it with its own token; preview then clean, and destroy leaves nothing."""
    shutil.copytree(PROJECT_DIR / "examples" / "yaml", tmp_path / "project", ignore=LOCAL_STACK_FILES)
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, accounts=DEMO_ACCOUNTS) as demo:
        stack = LocalStack(
            "dev", None, state_dir=tmp_path / "state", passphrase=PASSPHRASE, work_dir=tmp_path / "project"
        )
        stack.set_config({"kommo-yaml-example:baseUrl": demo.url})
        assert stack.stack.up().summary.resource_changes == {"create": 2 + 3 * len(DEMO_ACCOUNTS)}
        deployment = stack.stack.export_stack().deployment or {}
        providers = [r for r in deployment["resources"] if r["type"] == PROVIDER_TYPE]
        assert len(providers) == 1, "one provider serves both accounts"
        outputs = stack.outputs()["accounts"]
        assert isinstance(outputs, dict), "the example's outputs per account"
        scopes = {c.account_id: c.scope_id for c in demo.backend.connections()}
        assert set(scopes) == {spec.amojo_id for spec in DEMO_ACCOUNTS}
        for spec in DEMO_ACCOUNTS:
            account, mine = demo.rest.account(spec.subdomain), outputs[spec.subdomain]
            assert mine["scopeId"] == scopes[account.amojo_id]  # getAccount's amojoId, connected
            assert str(mine["webhookUrl"]).endswith("/" + scopes[account.amojo_id])
            [source] = demo.rest.sources(spec.subdomain)
            [hook] = demo.rest.webhooks(spec.subdomain)
            main = account.main_pipeline().id
            assert (source.account_id, source.pipeline_id) == (account.id, main)
            assert source.external_id == "support-bot"
            assert (hook.account_id, hook.created_by) == (account.id, spec.user_id), "made with its own token"
            assert hook.settings == ["add_message", "status_lead"]
            assert (mine["sourceId"], mine["pipelineId"], mine["webhookId"]) == (source.id, main, hook.id)
        stack.stack.preview(expect_no_changes=True)
        stack.stack.destroy()
        assert demo.backend.connections() == []
        assert demo.rest.sources() == [] and demo.rest.webhooks() == []


@pytest.mark.usefixtures("pulumi_cli")
def test_the_plugin_archive_installs_and_runs_without_the_venv(tmp_path: Path, plugin_archive: Path) -> None:
    """scripts/build-plugin-archive.sh, `pulumi plugin install ... -f`, then a YAML program with PATH
    plugins ignored: the CLI runs the installed copy, with no 'from $PATH' warning."""
    version = plugin_archive.name.split("-v", 1)[1].split("-", 1)[0]
    shutil.copytree(PROJECT_DIR / "examples" / "yaml", tmp_path / "project", ignore=LOCAL_STACK_FILES)
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, accounts=DEMO_ACCOUNTS) as demo:
        stack = LocalStack(
            "dev",
            None,
            state_dir=tmp_path / "state",
            passphrase=PASSPHRASE,
            work_dir=tmp_path / "project",
            env={"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"},
        )
        stack.run_cli(["plugin", "install", "resource", "kommo", version, "-f", str(plugin_archive)])
        listed = [line.split()[:3] for line in stack.run_cli(["plugin", "ls"]).stdout.splitlines()]
        assert ["kommo", "resource", version] in listed
        stack.set_config({"kommo-yaml-example:baseUrl": demo.url})
        up = stack.stack.up()
        assert "from $PATH" not in up.stdout + up.stderr
        assert len(demo.backend.connections()) == len(DEMO_ACCOUNTS)
        assert len(demo.rest.sources()) == len(demo.rest.webhooks()) == len(DEMO_ACCOUNTS)
        stack.stack.destroy()
        assert demo.backend.connections() == []
        assert demo.rest.sources() == [] and demo.rest.webhooks() == []
