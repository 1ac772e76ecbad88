"""The example stack (``__main__.py``) under ``pulumi.runtime.set_mocks``: exports, wiring, secrets."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from engine_harness import SECRET_SIG

from bot_settings import BotSettingsFile
from kommo_provider.emulator import DEMO_ACCOUNT_IDS, DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET

EXAMPLE = Path(__file__).resolve().parent.parent / "__main__.py"
CONNECTION = "pulumi-python:dynamic/kommo:ChatChannelConnection"
SETTINGS = "pulumi-python:dynamic/kommo:BotSettingsFile"


class StackMocks(pulumi.runtime.Mocks):
    """Answers a connection the way amojo would: scope_id = <channel>_<account>."""

    def __init__(self) -> None:
        self.registered: list[tuple[str, str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.registered.append((args.typ, args.name, inputs))
        outputs = dict(inputs)
        if args.typ == CONNECTION:
            outputs["scope_id"] = f"{inputs['channel_id']}_{inputs['account_id']}"
            return (outputs["scope_id"], outputs)
        return (f"{args.name}-id", outputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return ({}, None)


@pytest.fixture
def mocks() -> StackMocks:
    instance = StackMocks()
    pulumi.runtime.set_mocks(instance, project="kommo-provider", stack="unit", preview=False)
    return instance


def run_example() -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLE), run_name="__main__")


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_every_demo_account_is_connected_and_its_scope_id_exported(mocks: StackMocks) -> pulumi.Output[Any]:
    program = run_example()
    expected = {f"demo{i + 1}": f"{DEMO_CHANNEL_ID}_{a}" for i, a in enumerate(DEMO_ACCOUNT_IDS)}

    def check(values: list[Any]) -> None:
        scope_ids, webhook_urls, settings = values
        assert scope_ids == expected
        assert webhook_urls == {n: f"https://bot.example.com/kommo/webhook/{s}" for n, s in expected.items()}
        # The downstream resource received the scope_ids the connections returned.
        assert {n: a["scope_id"] for n, a in settings["accounts"].items()} == expected
        assert {n: a["webhook_url"] for n, a in settings["accounts"].items()} == webhook_urls
        connections = [r for r in mocks.registered if r[0] == CONNECTION]
        assert sorted(inputs["account_id"] for _, _, inputs in connections) == sorted(DEMO_ACCOUNT_IDS)

    return pulumi.Output.all(
        pulumi.Output.from_input(program["scope_ids"]),
        pulumi.Output.from_input(program["webhook_urls"]),
        program["settings"].settings,
    ).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_channel_secret_is_registered_as_a_secret(mocks: StackMocks) -> pulumi.Output[Any]:
    run_example()

    def check(_: Any) -> None:
        connections = [inputs for typ, _, inputs in mocks.registered if typ == CONNECTION]
        assert connections
        for inputs in connections:
            secret = inputs["channel_secret"]
            assert isinstance(secret, dict) and secret.get(SECRET_SIG), "channel_secret must be a secret"
            assert secret["value"] == DEMO_CHANNEL_SECRET
        settings = [inputs for typ, _, inputs in mocks.registered if typ == SETTINGS]
        assert DEMO_CHANNEL_SECRET not in repr(settings)

    return pulumi.Output.from_input(run_example()["scope_ids"]).apply(check)


def test_plain_string_secret_is_made_secret(mocks: StackMocks) -> None:
    from kommo_provider import KommoChatChannelConnection

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def build() -> pulumi.Output[Any]:
        conn = KommoChatChannelConnection(
            "plain",
            channel_id=DEMO_CHANNEL_ID,
            channel_secret="plain-text-secret",
            account_id=DEMO_ACCOUNT_IDS[0],
        )
        return conn.urn

    build()
    (inputs,) = [i for t, _, i in mocks.registered if t == CONNECTION]
    assert (
        inputs["channel_secret"].get(SECRET_SIG) and inputs["channel_secret"]["value"] == "plain-text-secret"
    )


def test_missing_config_names_argument_and_key(mocks: StackMocks) -> None:
    from kommo_provider import ConfigurationError, KommoChatChannelConnection

    with pytest.raises(ConfigurationError) as info:
        KommoChatChannelConnection("no-account", channel_id=DEMO_CHANNEL_ID, channel_secret="s")
    assert info.value.field == "account_id"
    assert "account_id argument" in str(info.value) and "kommo:accountId" in str(info.value)


@pytest.fixture
def restore_config() -> Iterator[None]:
    """A test may replace the stack config (``pulumi.runtime.set_all_config``); it comes back after."""
    previous = dict(pulumi.runtime.config.CONFIG.get())
    yield
    pulumi.runtime.set_all_config(previous)


def settings_path(mocks: StackMocks) -> str:
    (inputs,) = [i for t, _, i in mocks.registered if t == SETTINGS]
    return str(inputs["path"])


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_bot_settings_file_defaults_to_a_folder_of_its_own_and_is_absolute(
    mocks: StackMocks,
) -> pulumi.Output[Any]:
    settings: BotSettingsFile = run_example()["settings"]
    expected = EXAMPLE.parent / ".bot-settings" / "unit.json"  # the stack is "unit"

    def check(exported: str) -> None:
        # build/ is where setuptools builds the package; the file must not land there.
        assert Path(exported) == expected
        assert Path(exported).is_absolute()
        assert settings_path(mocks) == exported

    return settings.path.apply(check)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("out/bot.json", EXAMPLE.parent / "out" / "bot.json"),
        ("/srv/bot/settings.json", Path("/srv/bot/settings.json")),
    ],
    ids=["relative-to-the-project", "absolute"],
)
def test_configured_bot_settings_path_is_made_absolute(
    mocks: StackMocks, restore_config: None, configured: str, expected: Path
) -> None:
    pulumi.runtime.set_all_config({"kommo:botSettingsPath": configured})

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def build() -> pulumi.Output[Any]:
        settings: BotSettingsFile = run_example()["settings"]
        return settings.path

    build()
    assert settings_path(mocks) == str(expected)
