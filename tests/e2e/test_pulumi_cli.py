"""End to end: preview, up, refresh and destroy under the real Pulumi CLI, against the emulator.

Every stack lives on a local file backend in a temporary folder; the programs run inline through
the Automation API and the CLI starts the dynamic provider process as it would for any user.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID
from emulator_helpers import stored
from pulumi import automation as auto

from bot_settings import BotSettingsFile
from kommo_provider import KommoChatChannelConnection
from kommo_provider.emulator import DEMO_ACCOUNT_IDS, DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET, EmulatorServer
from stack_runner import LocalStack, example_program

pytestmark = pytest.mark.e2e

CONNECTION_TYPE = "pulumi-python:dynamic/kommo:ChatChannelConnection"
PASSPHRASE = "e2e-passphrase"


@pytest.fixture
def make_stack(tmp_path: Path, pulumi_cli: Path) -> Iterator[Callable[..., LocalStack]]:
    made: list[LocalStack] = []

    def make(
        program: Callable[[], None], name: str = "e2e", config: dict[str, str] | None = None
    ) -> LocalStack:
        stack = LocalStack(
            name, program, state_dir=tmp_path / "state", passphrase=PASSPHRASE, work_dir=tmp_path / "work"
        )
        stack.set_config({"kommo:maxRetries": "8", **(config or {})})
        made.append(stack)
        return stack

    (tmp_path / "work").mkdir()
    yield make
    for stack in made:  # never leave connections behind in a shared emulator
        with contextlib.suppress(auto.CommandError):
            stack.stack.destroy()


def connections(
    url: str,
    accounts: dict[str, str],
    *,
    secret: str = CHANNEL_SECRET,
    channel: str = CHANNEL_ID,
    title: str = "Support bot",
    triggers: Any = None,
    settings_path: Path | None = None,
) -> Callable[[], None]:
    """An inline program: one connection per (name, account id), plus the downstream settings file."""

    def program() -> None:
        scopes = {}
        for name, account in accounts.items():
            conn = KommoChatChannelConnection(
                name,
                channel_id=channel,
                channel_secret=secret,
                account_id=account,
                title=title,
                base_url=url,
                reconnect_triggers=triggers,
            )
            scopes[name] = conn.scope_id
        pulumi.export("scope_ids", scopes)
        if settings_path is not None:
            BotSettingsFile(
                "settings",
                path=str(settings_path),
                settings=pulumi.Output.all(**scopes).apply(lambda v: {"scopes": v}),
            )

    return program


def scope_ids(stack: LocalStack) -> dict[str, str]:
    value = stack.outputs()["scope_ids"]
    assert isinstance(value, dict)
    return value


def api_requests(emulator: EmulatorServer) -> list[tuple[str, int]]:
    return [(r.method, r.status) for r in emulator.backend.requests()]


def resources_in_state(stack: LocalStack) -> list[dict[str, Any]]:
    deployment = stack.stack.export_stack().deployment or {}
    return [r for r in deployment.get("resources", []) if r["type"] == CONNECTION_TYPE]


@pytest.fixture
def demo_emulator() -> Iterator[EmulatorServer]:
    """An emulator of its own with the public demo channel, as ``kommo-chat emulator --demo`` has."""
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}) as server:
        yield server


def test_example_stack_preview_up_refresh_destroy(
    make_stack: Callable[..., LocalStack], demo_emulator: EmulatorServer, tmp_path: Path
) -> None:
    emulator = demo_emulator
    settings_file = tmp_path / "bot-settings.json"
    stack = make_stack(
        example_program(), config={"kommo:baseUrl": emulator.url, "kommo:botSettingsPath": str(settings_file)}
    )

    stack.stack.preview()
    assert api_requests(emulator) == [], "preview must not call the Chat API"

    up = stack.stack.up()
    assert up.summary.result == "succeeded"
    exported = scope_ids(stack)
    expected = {f"demo{i + 1}": f"{DEMO_CHANNEL_ID}_{a}" for i, a in enumerate(DEMO_ACCOUNT_IDS)}
    assert exported == expected
    assert {c.scope_id for c in emulator.backend.connections()} == set(expected.values())
    settings = json.loads(settings_file.read_text())  # the downstream resource received the scope_ids
    assert {n: a["scope_id"] for n, a in settings["accounts"].items()} == expected
    assert all(a["webhook_url"].endswith(a["scope_id"]) for a in settings["accounts"].values())

    before = len(emulator.backend.requests())
    stack.stack.refresh()
    assert len(emulator.backend.requests()) == before, "refresh must not call the Chat API"
    stack.stack.preview(expect_no_changes=True)
    again = stack.stack.up()
    assert again.summary.resource_changes == {"same": 4}
    assert len(emulator.backend.requests()) == before

    stack.stack.destroy()
    assert emulator.backend.connections() == []
    assert not settings_file.exists()
    assert [m for m, _ in api_requests(emulator)].count("DELETE") == 2


def test_title_change_updates_in_place(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(connections(emulator.url, {"a": ACCOUNT_ID}))
    stack.stack.up()
    first_scope = scope_ids(stack)["a"]
    emulator.backend.reset()
    stack.stack.workspace.program = connections(emulator.url, {"a": ACCOUNT_ID}, title="Renamed")
    result = stack.stack.up()
    assert result.summary.resource_changes == {"same": 1, "update": 1}
    assert api_requests(emulator) == [("POST", 200)]
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).title == "Renamed"
    assert scope_ids(stack)["a"] == first_scope


def test_reconnect_triggers_force_a_fresh_connect(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(connections(emulator.url, {"a": ACCOUNT_ID}, triggers=["installed 2026-11-01"]))
    stack.stack.up()
    emulator.backend.disconnect(CHANNEL_ID, ACCOUNT_ID)  # Kommo disabled the channel (reinstall)
    emulator.backend.reset()
    stack.stack.workspace.program = connections(
        emulator.url, {"a": ACCOUNT_ID}, triggers=["installed 2026-11-25"]
    )
    assert stack.stack.up().summary.resource_changes == {"same": 1, "update": 1}
    assert api_requests(emulator) == [("POST", 200)]
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_account_change_replaces(make_stack: Callable[..., LocalStack], emulator: EmulatorServer) -> None:
    stack = make_stack(connections(emulator.url, {"a": ACCOUNT_ID}))
    stack.stack.up()
    stack.stack.workspace.program = connections(emulator.url, {"a": OTHER_ACCOUNT_ID})
    assert stack.stack.up().summary.resource_changes == {"same": 1, "replace": 1}
    assert stored(emulator, CHANNEL_ID, OTHER_ACCOUNT_ID).connected
    assert not stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    assert scope_ids(stack)["a"] == f"{CHANNEL_ID}_{OTHER_ACCOUNT_ID}"


def test_host_change_for_the_same_pair_ends_connected(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(connections(emulator.url, {"a": ACCOUNT_ID}))
    stack.stack.up()
    emulator.backend.reset()
    other_host = emulator.url.replace("127.0.0.1", "localhost")  # same server, another base URL
    stack.stack.workspace.program = connections(other_host, {"a": ACCOUNT_ID})
    assert stack.stack.up().summary.resource_changes == {"same": 1, "replace": 1}
    assert api_requests(emulator) == [("DELETE", 200), ("POST", 200)]  # delete before replace
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_secret_rotation_reconnects_with_the_new_secret(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer
) -> None:
    stack = make_stack(connections(emulator.url, {"a": ACCOUNT_ID}))
    stack.stack.up()
    rotated = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
    emulator.backend.add_channel(CHANNEL_ID, rotated)
    try:
        emulator.backend.reset()
        stack.stack.workspace.program = connections(emulator.url, {"a": ACCOUNT_ID}, secret=rotated)
        assert stack.stack.up().summary.resource_changes == {"same": 1, "update": 1}
        assert api_requests(emulator) == [("POST", 200)]
        stack.stack.destroy()  # the disconnect must be signed with the rotated secret
        assert api_requests(emulator)[-1] == ("DELETE", 200)
    finally:
        emulator.backend.add_channel(CHANNEL_ID, CHANNEL_SECRET)


@pytest.mark.parametrize(
    ("case", "expected"),
    [("wrong secret", "rejected the request signature"), ("unknown channel", "is not known at")],
)
def test_rejected_create_leaves_nothing_and_the_fixed_up_succeeds(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer, case: str, expected: str
) -> None:
    bad: dict[str, str] = (
        {"secret": "0" * 40}
        if case == "wrong secret"
        else {"channel": "11111111-2222-4333-8444-555555555555"}
    )
    stack = make_stack(
        connections(
            emulator.url,
            {"a": ACCOUNT_ID},
            secret=bad.get("secret", CHANNEL_SECRET),
            channel=bad.get("channel", CHANNEL_ID),
        )
    )
    with pytest.raises(auto.CommandError) as info:
        stack.stack.up()
    assert expected in str(info.value)
    assert "0" * 40 not in str(info.value) and CHANNEL_SECRET not in str(info.value)
    assert resources_in_state(stack) == []
    assert emulator.backend.connections() == []
    stack.stack.workspace.program = connections(emulator.url, {"a": ACCOUNT_ID})
    assert stack.stack.up().summary.result == "succeeded"
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_fifty_connections_converge_through_faults(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer
) -> None:
    accounts = {f"acct{i:02d}": f"00000000-0000-4000-8000-{i:012d}" for i in range(50)}
    emulator.faults.set_rate(0.3, ["429", "500", "503", "reset"], seed=7)
    stack = make_stack(connections(emulator.url, accounts))
    result = stack.stack.up()
    emulator.faults.clear()
    assert result.summary.resource_changes == {"create": 51}
    faults = [r for r in emulator.backend.requests() if r.fault]
    assert len(faults) >= 10, "the fault rate must actually have hit this run"
    connected = emulator.backend.connections()
    assert sorted(c.account_id for c in connected) == sorted(accounts.values())  # none lost
    assert len({c.scope_id for c in connected}) == 50  # none duplicated
    state = resources_in_state(stack)
    assert sorted(r["id"] for r in state) == sorted(c.scope_id for c in connected)
    assert scope_ids(stack) == {n: f"{CHANNEL_ID}_{a}" for n, a in accounts.items()}


def test_secret_never_appears_in_plaintext(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer, tmp_path: Path
) -> None:
    stack = make_stack(connections(emulator.url, {"a": ACCOUNT_ID}))
    up = stack.stack.up(log_verbosity=9, log_to_std_err=True, debug=True)
    export = stack.run_cli(["stack", "export", "--stack", stack.name]).stdout
    destroy = stack.stack.destroy(log_verbosity=9, log_to_std_err=True, debug=True)
    state_files = "".join(
        p.read_text(errors="replace") for p in (tmp_path / "state").rglob("*") if p.is_file()
    )
    recorded = json.dumps([r.to_dict() for r in emulator.backend.requests()])
    assert len(up.stderr) > 10_000 and "ChatChannelConnection" in up.stderr, "verbose engine log captured"
    assert '"channel_secret"' in export and "ciphertext" in export
    for where, text in {
        "up output": up.stdout + up.stderr,
        "destroy output": destroy.stdout + destroy.stderr,
        "stack export": export,
        "state files": state_files,
        "emulator requests": recorded,
    }.items():
        assert CHANNEL_SECRET not in text, f"secret in plaintext in {where}"
    assert recorded.count("X-Signature") == 2  # the secret reached the server only as signatures


def test_example_stack_configured_for_a_real_account(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer, tmp_path: Path
) -> None:
    """The README's steps for a real Kommo account: channel config, the secret on stdin, accounts by path."""
    stack = make_stack(example_program(), config={"kommo:botSettingsPath": str(tmp_path / "bot.json")})
    stack.set_config(
        {
            "kommo:channelId": CHANNEL_ID,
            "kommo:baseUrl": emulator.url,
            "kommo:accounts[0].accountId": ACCOUNT_ID,
            "kommo:accounts[0].name": "main",
            "kommo:accounts[1].accountId": OTHER_ACCOUNT_ID,
            "kommo:accounts[1].name": "second",
            "kommo:accounts[1].title": "Sales bot",
        },
        path=True,
    )
    stack.set_secret_config("kommo:channelSecret", CHANNEL_SECRET)
    config_file = (tmp_path / "work" / f"Pulumi.{stack.name}.yaml").read_text()
    assert CHANNEL_SECRET not in config_file and "secure:" in config_file

    stack.stack.up()
    assert scope_ids(stack) == {
        "main": f"{CHANNEL_ID}_{ACCOUNT_ID}",
        "second": f"{CHANNEL_ID}_{OTHER_ACCOUNT_ID}",
    }
    assert stored(emulator, CHANNEL_ID, OTHER_ACCOUNT_ID).title == "Sales bot"
    stack.stack.destroy()
    assert emulator.backend.connections() == []


@pytest.mark.parametrize(("key", "value"), [("kommo:maxRetries", "nan"), ("kommo:readTimeout", "-1")])
def test_bad_stack_config_is_one_line_naming_the_key(
    make_stack: Callable[..., LocalStack], emulator: EmulatorServer, key: str, value: str
) -> None:
    stack = make_stack(connections(emulator.url, {"a": ACCOUNT_ID}), config={key: value})
    with pytest.raises(auto.CommandError) as info:
        stack.stack.preview()
    text = str(info.value)
    diagnostics = text.partition("Diagnostics:")[2]
    [line] = [ln.strip() for ln in diagnostics.splitlines() if f"stack config {key} must be" in ln]
    assert line.endswith(f"got {value!r}") and "resource 'a' has a problem" in line
    assert "Traceback" not in text
    assert emulator.backend.requests() == []
