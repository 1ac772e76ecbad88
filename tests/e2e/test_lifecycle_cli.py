"""The lifecycle contract under the real CLI: every served resource through Pulumi YAML, and the newest one
(``ChatTemplate``) through the Python SDK too.

The rows are ``tests/contract_cases.py``'s, the ones the plugin-level contract runs. Each resource goes
through what Pulumi's own providers are tested for: ``up``; ``preview`` and ``refresh`` with no changes;
a change in place and one that replaces, as the row says; a change made out of band shows on ``refresh``
and the next ``up`` restores it; ``pulumi import`` by the resource's id, then a preview of a program that
declares it shows no diff; ``destroy`` leaves nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
from constants import CHANNEL_ID, CHANNEL_SECRET
from contract_cases import CASES, Case
from pulumi import automation as auto
from rest_helpers import ACME_TOKEN, GLOBEX_TOKEN
from yaml_stack import PASSPHRASE, YamlStack, yaml_stacks

from kommo_provider.emulator import EmulatorServer
from kommo_provider.resources import REGISTRY
from stack_runner import LocalStack

pytestmark = pytest.mark.e2e


def configure(local: LocalStack, emulator: EmulatorServer) -> None:
    """The default provider as the plugin-level contract configures it: the test channel, ``acme`` the
    default account, ``globex`` by its host in ``accessTokens``."""
    local.set_config({"kommo:channelId": CHANNEL_ID, "kommo:baseUrl": emulator.url,
                      "kommo:accountDomain": "acme", "kommo:apiBaseUrl": emulator.url,
                      "kommo:maxRequestsPerSecond": "0"})  # fmt: skip
    local.set_secret_config("kommo:channelSecret", CHANNEL_SECRET)
    local.set_secret_config("kommo:accessToken", ACME_TOKEN)
    local.set_secret_config("kommo:accessTokens", json.dumps({"globex.kommo.com": GLOBEX_TOKEN}))


def yaml_program(case: Case, properties: Mapping[str, Any] | None) -> dict[str, Any]:
    resources = {} if properties is None else {"r": {"type": case.token, "properties": dict(properties)}}
    return {
        "name": "kommo-contract",
        "runtime": "yaml",
        "resources": resources,
        "outputs": {"id": "${r.id}"} if resources else {},
    }


def python_program(case: Case, holder: dict[str, Any]) -> Callable[[], None]:
    """An inline Python program declaring the resource through ``pulumi_kommo`` with ``holder``'s inputs."""

    def program() -> None:
        import pulumi_kommo  # the generated SDK, installed into .venv from sdk/python

        properties = holder.get("properties")
        if properties is None:
            return
        model = REGISTRY.resource(case.token).model  # type: ignore[union-attr]
        kind = getattr(pulumi_kommo, model.name)
        args = {snake(key): value for key, value in properties.items()}
        resource = kind("r", **args)
        pulumi.export("id", resource.id)

    return program


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.fixture
def stacks(tmp_path: Path, pulumi_cli: Path) -> Iterator[Callable[..., YamlStack]]:
    with yaml_stacks(tmp_path) as make:
        yield make


Declare = Callable[[Mapping[str, Any] | None], LocalStack]


def run_contract(
    case: Case, emulator: EmulatorServer, declare: Declare, stacks: Callable[..., YamlStack]
) -> None:
    """The contract, whatever runs the program: ``declare(props)`` makes the stack declare them."""
    valid = dict(case.valid)
    local = declare(valid)
    assert local.stack.up().summary.resource_changes == {"create": 2}
    assert case.count(emulator) == 1
    local.stack.preview(expect_no_changes=True)
    local.stack.refresh(expect_no_changes=True)

    changed = {**valid, **case.update}
    assert declare(changed).stack.up().summary.resource_changes == {"same": 1, "update": 1}
    local.stack.preview(expect_no_changes=True)
    replaced = {**changed, **case.replace}
    assert declare(replaced).stack.up().summary.resource_changes == {"same": 1, "replace": 1}
    assert case.count(emulator) == 1

    deployment = local.stack.export_stack().deployment or {}
    [state] = [r for r in deployment["resources"] if r["type"] == case.token]
    if case.drift is not None:
        case.drift(emulator, state["outputs"])
        assert local.stack.refresh().summary.resource_changes == {"same": 1, "update": 1}
        assert local.stack.up().summary.resource_changes == {"same": 1, "update": 1}
        local.stack.preview(expect_no_changes=True)

    importer = stacks(yaml_program(case, None))
    configure(importer.local, emulator)
    importer.stack.up()
    importer.local.run_cli(["import", case.token, "r", state["id"], "--yes", "--protect=false"])
    importer.write(yaml_program(case, replaced))
    preview = importer.stack.preview(diff=True)
    if case.unreadable:  # what Kommo cannot be asked for is applied at the next `up`
        assert preview.change_summary == {"same": 1, "update": 1}
    else:
        assert preview.change_summary == {"same": 2}, preview.stdout
    [imported] = importer.resources(case.token)
    importer.local.run_cli(["state", "delete", imported["urn"], "--yes"])  # the first stack keeps it

    local.stack.destroy()
    assert case.count(emulator) == 0


@pytest.mark.parametrize("token", [resource.model.token for resource in REGISTRY.resources])
def test_every_resource_keeps_the_contract_through_yaml(
    token: str, emulator: EmulatorServer, stacks: Callable[..., YamlStack]
) -> None:
    case = CASES[token]
    stack = stacks(yaml_program(case, case.valid))
    configure(stack.local, emulator)

    def declare(properties: Mapping[str, Any] | None) -> LocalStack:
        stack.write(yaml_program(case, properties))
        return stack.local

    run_contract(case, emulator, declare, stacks)


def test_chat_template_keeps_the_contract_through_the_python_sdk(
    emulator: EmulatorServer,
    stacks: Callable[..., YamlStack],
    tmp_path: Path,
    sdk_examples: Callable[[str], None],
) -> None:
    sdk_examples("python")  # pulumi_kommo, generated from the schema, in .venv
    case = CASES["kommo:index:ChatTemplate"]
    holder: dict[str, Any] = {}
    work = tmp_path / "python"
    work.mkdir()
    program = python_program(case, holder)
    local = LocalStack(
        "contract", program, state_dir=tmp_path / "state", passphrase=PASSPHRASE, work_dir=work
    )
    configure(local, emulator)

    def declare(properties: Mapping[str, Any] | None) -> LocalStack:
        holder["properties"] = properties
        return local

    try:
        run_contract(case, emulator, declare, stacks)
    finally:
        holder["properties"] = None
        local.stack.destroy()


@pytest.mark.parametrize(
    "token",
    [r.model.token for r in REGISTRY.resources if r.model.token != "kommo:index:ChatChannelConnection"],
)
def test_a_resource_renamed_without_an_alias_fails_in_one_line_and_the_alias_mends_it(
    token: str, emulator: EmulatorServer, stacks: Callable[..., YamlStack]
) -> None:
    """The object keeps its natural key: the new name's create is refused (nothing is made, the old name
    keeps it), and an alias of the old name moves it without a request that changes Kommo."""
    case = CASES[token]
    stack = stacks(yaml_program(case, case.valid))
    configure(stack.local, emulator)
    stack.stack.up()
    program = yaml_program(case, case.valid)
    program["resources"]["renamed"] = program["resources"].pop("r")
    program["outputs"] = {"id": "${renamed.id}"}
    stack.write(program)
    with pytest.raises(auto.CommandError) as info:
        stack.stack.up()
    assert "already exists" in str(info.value) and "alias of its old name" in str(info.value)
    [kept] = stack.resources(token)
    assert case.count(emulator) == 1 and kept["urn"].rsplit("::", 1)[1] == "r"
    sent = len(emulator.backend.requests())
    program["resources"]["renamed"]["options"] = {"aliases": [kept["urn"]]}
    stack.write(program)
    assert stack.stack.up().summary.resource_changes == {"same": 2}
    assert all(r.method == "GET" for r in emulator.backend.requests()[sent:])
    assert case.count(emulator) == 1


def test_a_webhook_with_a_secret_destination_keeps_it_secret_and_is_found_by_every_command(
    emulator: EmulatorServer, stacks: Callable[..., YamlStack]
) -> None:
    keyed = "https://bot.example.com/kommo/events?key=k3y-1n-th3-url"
    case = CASES["kommo:index:Webhook"]
    stack = stacks(yaml_program(case, {"destination": {"fn::secret": keyed}, "settings": ["add_lead"]}))
    configure(stack.local, emulator)
    stack.stack.up()
    [hook] = emulator.rest.webhooks("acme")
    [state] = stack.resources(case.token)
    assert state["id"] == f"acme.kommo.com/{hook.id}" and "k3y-1n-th3-url" not in stack.stored_text()
    stack.stack.preview(expect_no_changes=True)
    stack.stack.refresh(expect_no_changes=True)
    stack.stack.destroy()
    assert emulator.rest.webhooks("acme") == []
