"""A vendor's fleet under the real CLI: 20 accounts through one provider, their tokens resolved per account.

The program is what a chat integration's vendor declares for each client account: the account looked up
(``getAccount``), connected to the vendor's channel, a lead source and a webhook; all through the
default provider, configured from stack config as a user would (``kommo:accessTokens`` or
``kommo:tokenCommand``, set as JSON text). One ``kommo`` plugin process serves every account (a launcher
on ``PATH`` counts the processes the engine starts), each account's objects are made with its own token,
and tokens rotated between runs (in the emulator and in the vendor's store) are picked up by ``up``,
``refresh`` and ``destroy``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto
from token_command import LEAKED
from yaml_stack import YamlStack, yaml_stacks

from kommo_provider.emulator import (
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    AccountSpec,
    EmulatorServer,
    mint_token,
)

pytestmark = pytest.mark.e2e

ACCOUNTS = 20
INTEGRATION = "3f6c1a2b-8d4e-4f50-9a7b-1c2d3e4f5a6b"
TOKEN_COMMAND = Path(__file__).resolve().parent.parent / "token_command.py"
SOURCE = "kommo:index:Source"
WEBHOOK = "kommo:index:Webhook"
CONNECTION = "kommo:index:ChatChannelConnection"


def subdomain(i: int) -> str:
    return f"fleet{i:02d}"


def host(i: int) -> str:
    return f"{subdomain(i)}.kommo.com"


def first_token(i: int) -> str:
    return mint_token(account_id=50_000_000 + i, integration_id=INTEGRATION, user_id=9_100_000 + i,
                      issued_at=1_767_225_600, expires_at=4_102_444_800, token_id=f"fleet{i}")  # fmt: skip


def fleet_program(count: int = ACCOUNTS) -> dict[str, Any]:
    """Per account: its lookup, a connection with the lookup's amojoId, a source and a webhook."""
    resources: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    for i in range(count):
        account = host(i)
        variables[f"a{i}"] = {
            "fn::invoke": {"function": "kommo:index:getAccount", "arguments": {"account": account}}
        }
        resources[f"c{i}"] = {"type": CONNECTION, "properties": {"accountId": f"${{a{i}.amojoId}}"}}
        resources[f"s{i}"] = {
            "type": SOURCE,
            "properties": {"account": account, "name": "Bot chats", "externalId": "bot"},
        }
        resources[f"w{i}"] = {
            "type": WEBHOOK,
            "properties": {
                "account": account,
                "destination": f"https://bot.example.com/{i}",
                "settings": ["add_message"],
            },
        }
    return {"name": "kommo-fleet-e2e", "runtime": "yaml", "resources": resources, "variables": variables}


@pytest.fixture
def fleet() -> Iterator[EmulatorServer]:
    """An emulator with the demo channel and 20 accounts, each with its own token of one integration."""
    specs = [
        AccountSpec(
            subdomain(i),
            token=first_token(i),
            id=50_000_000 + i,
            integration_id=INTEGRATION,
            user_id=9_100_000 + i,
        )
        for i in range(ACCOUNTS)
    ]
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, accounts=specs) as server:
        yield server


@pytest.fixture
def launches(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A ``pulumi-resource-kommo`` launcher first on ``PATH`` that logs each start of the plugin."""
    bin_dir, log = tmp_path / "counting-bin", tmp_path / "plugin-starts.log"
    bin_dir.mkdir()
    real = Path(sys.executable).parent / "pulumi-resource-kommo"
    launcher = bin_dir / "pulumi-resource-kommo"
    launcher.write_text(f'#!/bin/sh\necho "$$ $(cat /proc/$PPID/comm)" >> "{log}"\nexec "{real}" "$@"\n')
    launcher.chmod(0o755)
    return {
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]])
    }, log


def starts(log: Path) -> list[str]:
    """Who started each plugin process (the engine, ``pulumi``, or a language host loading the schema)."""
    return [line.split()[1] for line in log.read_text().splitlines()] if log.exists() else []


def configured(stack: YamlStack, emulator: EmulatorServer) -> YamlStack:
    """The default provider: the demo channel and every account's REST API at the emulator, unpaced."""
    stack.local.set_config({"kommo:channelId": DEMO_CHANNEL_ID, "kommo:baseUrl": emulator.url,
                            "kommo:apiBaseUrl": emulator.url, "kommo:maxRequestsPerSecond": "0"})  # fmt: skip
    stack.local.set_secret_config("kommo:channelSecret", DEMO_CHANNEL_SECRET)
    return stack


def objects_per_account(emulator: EmulatorServer) -> list[tuple[int, int, bool]]:
    """Per account: its sources, its webhooks, and whether it is connected."""
    connected = {c.account_id for c in emulator.backend.connections()}
    return [
        (
            len(emulator.rest.sources(subdomain(i))),
            len(emulator.rest.webhooks(subdomain(i))),
            emulator.rest.account(subdomain(i)).amojo_id in connected,
        )
        for i in range(ACCOUNTS)
    ]


@pytest.fixture
def make(tmp_path: Path, pulumi_cli: Path) -> Iterator[Callable[..., YamlStack]]:
    with yaml_stacks(tmp_path) as make_stack:
        yield make_stack


def test_twenty_accounts_through_one_provider_with_access_tokens(
    make: Callable[..., YamlStack],
    fleet: EmulatorServer,
    launches: tuple[dict[str, str], Path],
    tmp_path: Path,
) -> None:
    env, log = launches
    stack = configured(make(fleet_program(), env=env), fleet)
    tokens = {host(i): first_token(i) for i in range(ACCOUNTS)}
    stack.local.set_secret_config("kommo:accessTokens", json.dumps(tokens))
    before = starts(log)
    up = stack.stack.up()
    assert up.summary.resource_changes == {"create": 3 * ACCOUNTS + 1}
    started = starts(log)[len(before) :]
    assert started.count("pulumi") == 1, f"one plugin process serves every account: {started}"
    assert objects_per_account(fleet) == [(1, 1, True)] * ACCOUNTS  # each made in its own account
    stack.stack.preview(expect_no_changes=True)
    stack.stack.refresh(expect_no_changes=True)
    assert all(token.split(".")[2] not in stack.stored_text() for token in tokens.values())

    # Import by the new id shape, in a stack of its own: the whole source is read, nothing changes.
    [source] = fleet.rest.sources(subdomain(3))
    other = configured(
        make({"name": "kommo-fleet-import", "runtime": "yaml", "resources": {}}, env=env), fleet
    )
    other.local.set_secret_config("kommo:accessTokens", json.dumps(tokens))
    sent = len(fleet.backend.requests())
    other.local.run_cli(["import", SOURCE, "s3", f"{host(3)}/{source.id}", "--yes", "--protect=false"])
    assert all(r.method == "GET" for r in fleet.backend.requests()[sent:])
    [imported] = other.resources(SOURCE)
    assert imported["id"] == f"{host(3)}/{source.id}" and imported["outputs"]["externalId"] == "bot"
    other.local.run_cli(["state", "delete", imported["urn"], "--yes"])  # the main stack keeps it

    # Every token rotated since: the stored ones are refused until the new ones are set.
    rotated = {
        host(i): fleet.rest.rotate_token(subdomain(i), integration_id=INTEGRATION) for i in range(ACCOUNTS)
    }
    with pytest.raises(auto.CommandError) as info:
        stack.stack.refresh()
    assert "give it a valid token in the kommo provider's accessTokens" in str(info.value)
    # The new tokens in stack config; refresh and destroy use the provider's configuration in state unless
    # they run the program (or an `up` records the new one first).
    stack.local.set_secret_config("kommo:accessTokens", json.dumps(rotated))
    stack.stack.refresh(expect_no_changes=True, run_program=True)
    stack.stack.destroy(run_program=True)
    assert objects_per_account(fleet) == [(0, 0, False)] * ACCOUNTS


@pytest.fixture
def vendor_store(tmp_path: Path) -> tuple[list[str], Callable[[dict[str, Any]], None], Path]:
    """The vendor's token store (a file standing for its backend) and a command that reads it."""
    store, log = tmp_path / "vendor-tokens.json", tmp_path / "token-command.log"

    def write(entries: dict[str, Any]) -> None:
        store.write_text(json.dumps(entries), encoding="utf-8")

    return [sys.executable, str(TOKEN_COMMAND), str(store), str(log)], write, log


def test_twenty_accounts_through_one_provider_with_a_token_command(
    make: Callable[..., YamlStack],
    fleet: EmulatorServer,
    launches: tuple[dict[str, str], Path],
    vendor_store: tuple[list[str], Callable[[dict[str, Any]], None], Path],
) -> None:
    env, log = launches
    command, write_store, command_log = vendor_store
    write_store(
        {host(i): {"accessToken": first_token(i), "expiresAt": 4_102_444_800} for i in range(ACCOUNTS)}
    )
    stack = configured(make(fleet_program(), env=env), fleet)
    stack.local.set_config({"kommo:tokenCommand": json.dumps(command)})
    before = starts(log)
    stack.stack.up()
    assert starts(log)[len(before) :].count("pulumi") == 1
    assert objects_per_account(fleet) == [(1, 1, True)] * ACCOUNTS
    assert sorted(command_log.read_text().split()) == sorted(host(i) for i in range(ACCOUNTS))  # once each
    stack.stack.preview(expect_no_changes=True)
    stack.stack.refresh(expect_no_changes=True)

    # The vendor's backend refreshed every token; the store hands out a stale one first (a copy that
    # rotated after it was read): each account gets a 401, its token is fetched once more, and the call
    # goes on.
    old = {i: first_token(i) for i in range(ACCOUNTS)}
    new = {i: fleet.rest.rotate_token(subdomain(i), integration_id=INTEGRATION) for i in range(ACCOUNTS)}
    command_log.write_text("")
    write_store({host(i): [old[i], new[i]] for i in range(ACCOUNTS)})
    stack.stack.refresh(expect_no_changes=True)
    assert sorted(command_log.read_text().split()) == sorted([host(i) for i in range(ACCOUNTS)] * 2)
    refused = [r for r in fleet.backend.requests() if r.status == 401]
    assert ACCOUNTS <= len(refused) <= 2 * ACCOUNTS  # a source's and a webhook's read may both hold it

    # Changes and destroy with the rotated tokens.
    write_store({host(i): new[i] for i in range(ACCOUNTS)})
    program = fleet_program()
    program["resources"]["s0"]["properties"]["name"] = "Renamed"
    stack.write(program)
    assert stack.stack.up().summary.resource_changes == {"same": 3 * ACCOUNTS, "update": 1}

    # A command that fails for one account fails that account's calls in one line, showing nothing it printed.
    write_store({**{host(i): new[i] for i in range(ACCOUNTS)}, host(7): {"exit": 3}})
    with pytest.raises(auto.CommandError) as info:
        stack.stack.refresh()
    text = str(info.value)
    assert (
        f"tokenCommand failed for account {host(7)}: it exited with status 3 (its output is not shown)"
        in text
    )
    assert LEAKED not in text and "Traceback" not in text

    write_store({host(i): new[i] for i in range(ACCOUNTS)})
    stack.stack.destroy()
    assert objects_per_account(fleet) == [(0, 0, False)] * ACCOUNTS
