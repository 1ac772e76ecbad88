"""The ``kommo`` plugin process over gRPC, as the engine drives it, against the real emulator.

The end-to-end tests run it under the real CLI; these pin each protocol answer: secrets marked,
diffs detailed, previews without requests, errors as one sentence.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

import grpc
import pytest
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID
from emulator_helpers import stored
from plugin_harness import PluginProcess, details, provider_config
from pulumi.runtime.proto import provider_pb2

from kommo_provider.connection import CONNECTION, secret_fingerprint
from kommo_provider.emulator import EmulatorServer
from kommo_provider.model import UNKNOWN
from kommo_provider.plugin.schema import RESOURCES, schema
from kommo_provider.plugin.wire import Secret, is_secret

Kind = provider_pb2.PropertyDiff
OTHER_CHANNEL = "11111111-2222-4333-8444-555555555555"


# -- the package ----------------------------------------------------------------------------------


def test_version_and_schema_come_from_the_package(plugin: PluginProcess) -> None:
    version = metadata.version("kommo-provider")
    assert plugin.version() == version
    served = json.loads(plugin.schema())
    assert served == schema() and served["version"] == version and served["name"] == "kommo"
    assert list(served["resources"]) == [m.token for m in RESOURCES]
    assert served["provider"]["inputProperties"]["channelSecret"]["secret"] is True


def test_provider_config_and_stack_config_describe_the_same_keys() -> None:
    data = schema()
    assert set(data["config"]["variables"]) == set(data["provider"]["inputProperties"])
    resource = data["resources"]["kommo:index:ChatChannelConnection"]
    assert set(resource["inputProperties"]) == {f.schema_name for f in CONNECTION.inputs}
    assert set(resource["inputProperties"]) < set(resource["properties"])
    assert all(p.get("description") for p in resource["properties"].values())


# -- provider configuration -----------------------------------------------------------------------


def test_check_config_marks_a_plain_secret_secret(plugin: PluginProcess, emulator: EmulatorServer) -> None:
    inputs, failures = plugin.check_config(
        provider_config(emulator, rest=False, channelSecret=CHANNEL_SECRET)
    )
    assert failures == []
    assert is_secret(inputs["channelSecret"]) and inputs["channelSecret"].value == CHANNEL_SECRET


def test_check_config_names_each_bad_key_and_never_the_secret(plugin: PluginProcess) -> None:
    bad = {
        "channelId": f"{CHANNEL_ID}\n",
        "channelSecret": f" {CHANNEL_SECRET}",
        "baseUrl": "http://[::1",
        "maxRetries": "nan",
        "readTimeout": -1,
    }
    _, failures = plugin.check_config(bad)
    assert [p for p, _ in failures] == ["channelId", "channelSecret", "baseUrl", "maxRetries", "readTimeout"]
    for prop, reason in failures:
        assert reason.startswith(prop) and CHANNEL_SECRET not in reason


def test_check_config_says_how_to_complete_a_group_given_in_part(plugin: PluginProcess) -> None:
    _, failures = plugin.check_config({"channelId": CHANNEL_ID})
    assert [p for p, _ in failures] == ["channelSecret"]
    assert "--secret kommo:channelSecret" in failures[0][1]
    _, failures = plugin.check_config({"channelSecret": Secret(CHANNEL_SECRET)})
    assert [p for p, _ in failures] == ["channelId"] and "kommo:channelId" in failures[0][1]


def test_a_connection_through_a_provider_without_a_channel_fails_at_check(plugin: PluginProcess) -> None:
    """A provider may serve only Kommo's REST API: a connection through it names what to set."""
    assert plugin.check_config({}) == ({}, [])
    plugin.configure({})
    try:
        _, failures = plugin.check({"accountId": ACCOUNT_ID})
    finally:
        plugin.configure({"channelId": CHANNEL_ID, "channelSecret": Secret(CHANNEL_SECRET)})
    reasons = " ".join(reason for _, reason in failures)
    assert "set channelId on the kommo provider" in reasons and "kommo:channelSecret" in reasons


@pytest.mark.parametrize(
    ("change", "kind", "replaces", "dbr"),
    [
        ({"channelId": OTHER_CHANNEL}, Kind.UPDATE_REPLACE, ["channelId"], False),
        # A new host updates the provider in place; each connection's own plan replaces it.
        ({"baseUrl": "http://localhost:1"}, Kind.UPDATE, [], False),
        ({"channelSecret": Secret("f" * 40)}, Kind.UPDATE, [], False),
        ({"maxRetries": 3}, Kind.UPDATE, [], False),
    ],
)
def test_diff_config(
    plugin: PluginProcess,
    emulator: EmulatorServer,
    change: dict[str, Any],
    kind: int,
    replaces: list[str],
    dbr: bool,
) -> None:
    olds = provider_config(emulator, rest=False)
    diff = plugin.diff_config(olds, {**olds, **change})
    assert diff.changes == diff.DIFF_SOME
    assert {k: v.kind for k, v in diff.detailedDiff.items()} == {next(iter(change)): kind}
    assert list(diff.replaces) == replaces and diff.deleteBeforeReplace is dbr


def test_diff_config_compares_hosts_not_spellings(plugin: PluginProcess, emulator: EmulatorServer) -> None:
    olds = provider_config(emulator, rest=False, baseUrl="kommo")
    assert plugin.diff_config(olds, {**olds, "baseUrl": "https://amojo.kommo.com/"}).changes == (
        provider_pb2.DiffResponse.DIFF_NONE
    )


# -- ChatChannelConnection -------------------------------------------------------------------------


def test_check_defaults_and_one_failure_per_property(configured: PluginProcess) -> None:
    inputs, failures = configured.check({"accountId": ACCOUNT_ID})
    assert failures == [] and inputs == {"accountId": ACCOUNT_ID, "hookApiVersion": "v2"}
    _, failures = configured.check(
        {"title": "", "hookApiVersion": "v3", "reconnectTriggers": "x", "channelId": CHANNEL_ID}
    )
    assert sorted(p for p, _ in failures) == [
        "accountId",
        "channelId",
        "hookApiVersion",
        "reconnectTriggers",
        "title",
    ]
    reasons = dict(failures)
    assert "set accountId on the resource" in reasons["accountId"]
    assert "the channel comes from the kommo provider" in reasons["channelId"]


def test_lifecycle_previews_send_nothing(configured: PluginProcess, emulator: EmulatorServer) -> None:
    news, _ = configured.check({"accountId": ACCOUNT_ID, "title": "Support bot"})

    id_, preview = configured.create(news, preview=True)
    assert id_ == "" and preview["scopeId"] == UNKNOWN and preview["channelId"] == CHANNEL_ID
    assert emulator.backend.requests() == []

    id_, outs = configured.create(news)
    assert id_ == outs["scopeId"] == stored(emulator, CHANNEL_ID, ACCOUNT_ID).scope_id
    declared = schema()["resources"]["kommo:index:ChatChannelConnection"]["properties"]
    assert set(outs) <= set(declared)  # every output the plugin returns is in the schema
    assert outs["baseUrl"] == emulator.url and outs["title"] == "Support bot"
    assert is_secret(outs["secretFingerprint"])  # never the secret itself, and kept as a secret anyway
    assert CHANNEL_SECRET not in json.dumps({k: str(v) for k, v in outs.items()})

    renamed, _ = configured.check({"accountId": ACCOUNT_ID, "title": "Renamed"})
    diff = configured.diff(id_, outs, renamed)
    assert {k: v.kind for k, v in diff.detailedDiff.items()} == {"title": Kind.UPDATE}
    assert list(diff.replaces) == [] and set(diff.stables) >= {"scopeId", "channelId", "accountId"}
    planned = configured.update(id_, outs, renamed, preview=True)
    assert planned["scopeId"] == id_ and planned["title"] == "Renamed"
    assert len(emulator.backend.requests()) == 1

    updated = configured.update(id_, outs, renamed)
    assert updated["title"] == "Renamed" and stored(emulator, CHANNEL_ID, ACCOUNT_ID).title == "Renamed"

    assert configured.read(id_, updated, renamed) == (id_, updated, renamed)  # refresh
    assert len(emulator.backend.requests()) == 2

    moved, _ = configured.check({"accountId": OTHER_ACCOUNT_ID})
    diff = configured.diff(id_, updated, moved)
    assert list(diff.replaces) == ["accountId"] and diff.detailedDiff["accountId"].kind == Kind.UPDATE_REPLACE

    with PluginProcess() as later_run:  # `pulumi destroy`: nothing declared holds the connection
        later_run.configure(provider_config(emulator, rest=False))
        later_run.delete(id_, updated)
    assert not stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


def test_secret_inputs_come_back_as_secret_outputs(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    _, outs = configured.create({"accountId": ACCOUNT_ID, "title": Secret("Private desk")})
    assert outs["title"] == Secret("Private desk")
    assert not is_secret(outs["accountId"])


def test_a_rotated_secret_is_an_update_without_naming_it(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    plugin.configure(provider_config(emulator, rest=False))
    news = {"accountId": ACCOUNT_ID, "hookApiVersion": "v2"}
    id_, outs = plugin.create(news)
    plugin.configure(provider_config(emulator, rest=False, channelSecret=Secret("a" * 40)))
    diff = plugin.diff(id_, outs, news)
    # The connection's own output changes; it has no channelSecret property to show.
    assert {k: v.kind for k, v in diff.detailedDiff.items()} == {"secretFingerprint": Kind.UPDATE}
    assert not diff.detailedDiff["secretFingerprint"].inputDiff
    assert list(diff.replaces) == []
    plugin.configure(provider_config(emulator, rest=False))


def test_import_reads_the_account_from_the_id_and_sends_nothing(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    scope_id = f"{CHANNEL_ID}_{ACCOUNT_ID}"
    id_, outs, inputs = configured.read(scope_id)
    assert id_ == scope_id and inputs == {"accountId": ACCOUNT_ID}
    assert outs == {
        "scopeId": scope_id,
        "channelId": CHANNEL_ID,
        "accountId": ACCOUNT_ID,
        "baseUrl": emulator.url,
        "secretFingerprint": Secret(secret_fingerprint(CHANNEL_SECRET)),
    }
    assert emulator.backend.requests() == []
    # The provider's secret is the one in effect: no channelSecret change shows after an import.
    assert configured.diff(
        id_, outs, {"accountId": ACCOUNT_ID, "hookApiVersion": "v2"}
    ).detailedDiff.keys() == {"hookApiVersion"}


@pytest.mark.parametrize(
    ("scope_id", "words"),
    [
        ("opaque-id", "is not shaped"),
        (f"{OTHER_CHANNEL}_{ACCOUNT_ID}", f"belongs to channel {OTHER_CHANNEL}"),
    ],
)
def test_import_of_another_id_is_refused_in_one_sentence(
    configured: PluginProcess, scope_id: str, words: str
) -> None:
    with pytest.raises(grpc.RpcError) as info:
        configured.read(scope_id)
    text = details(info)
    assert text.startswith("cannot import ChatChannelConnection: the id") and words in text
    assert "declaring it with its accountId" in text and "Traceback" not in text and "\n" not in text


def test_a_failed_create_is_one_sentence_without_the_secret(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    wrong = "0" * 40
    plugin.configure(provider_config(emulator, rest=False, channelSecret=Secret(wrong)))
    try:
        with pytest.raises(grpc.RpcError) as info:
            plugin.create({"accountId": ACCOUNT_ID, "hookApiVersion": "v2"})
    finally:
        plugin.configure(provider_config(emulator, rest=False))
    text = details(info)
    assert text.startswith(f"connecting account {ACCOUNT_ID} to channel {CHANNEL_ID} failed: amojo rejected")
    assert "Traceback" not in text and wrong not in text and "\n" not in text
    assert emulator.backend.connections() == []


def test_an_unconfigured_provider_says_so() -> None:
    with PluginProcess() as fresh, pytest.raises(grpc.RpcError) as info:
        fresh.create({"accountId": ACCOUNT_ID})
    assert details(info) == "the kommo provider was used before it was configured"


# -- what broke when the plugin was tried as its users would -----------------------------------------


def test_a_value_the_program_made_secret_never_comes_back_in_a_failure(configured: PluginProcess) -> None:
    _, failures = configured.check(
        {"accountId": Secret("not-an-id-s3cret"), "hookApiVersion": Secret("my-s3cret")}
    )
    assert sorted(p for p, _ in failures) == ["accountId", "hookApiVersion"]
    assert all("s3cret" not in reason for _, reason in failures)
    _, failures = configured.check({"accountId": ACCOUNT_ID, "title": "t" * 1_000_000})
    [(prop, reason)] = failures
    assert prop == "title" and "at most 255 characters" in reason and len(reason) < 200


def test_unknown_provider_inputs_during_a_preview(plugin: PluginProcess, emulator: EmulatorServer) -> None:
    """A provider fed another resource's output: the preview goes on, the real check comes at up."""
    inputs, failures = plugin.check_config(
        provider_config(emulator, rest=False, baseUrl=UNKNOWN, channelId=UNKNOWN)
    )
    assert failures == []
    plugin.configure(inputs)
    try:
        news, failures = plugin.check({"accountId": ACCOUNT_ID})
        assert failures == []
        _, preview = plugin.create(news, preview=True)
        assert (
            preview["baseUrl"] == UNKNOWN
            and preview["channelId"] == UNKNOWN
            and preview["scopeId"] == UNKNOWN
        )
        assert emulator.backend.requests() == []
    finally:
        plugin.configure(provider_config(emulator, rest=False))


def test_a_disconnect_refused_after_a_rotation_that_did_not_finish_says_what_to_run(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    plugin.configure(provider_config(emulator, rest=False))
    news = {"accountId": ACCOUNT_ID, "hookApiVersion": "v2"}
    id_, outs = plugin.create(news)
    refused = "b" * 40  # Kommo does not know it: the rotation failed, yet the provider's state holds it
    with PluginProcess() as destroy_run:
        destroy_run.configure(provider_config(emulator, rest=False, channelSecret=Secret(refused)))
        with pytest.raises(grpc.RpcError) as info:
            destroy_run.delete(id_, outs)
    text = details(info)
    assert "another channelSecret than the provider's" in text and "run `pulumi up`" in text
    assert refused not in text and CHANNEL_SECRET not in text and "\n" not in text
    assert stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected


@pytest.mark.parametrize("value", [5, True, ["x"], {"a": 1}])
def test_diff_against_hand_edited_state_plans_instead_of_failing(
    configured: PluginProcess, emulator: EmulatorServer, value: Any
) -> None:
    id_, outs = configured.create({"accountId": ACCOUNT_ID, "hookApiVersion": "v2"})
    diff = configured.diff(id_, {**outs, "baseUrl": value}, {"accountId": ACCOUNT_ID, "hookApiVersion": "v2"})
    assert list(diff.replaces) == ["baseUrl"]


def test_an_account_id_in_another_case_is_no_change(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    scope_id = f"{CHANNEL_ID}_{ACCOUNT_ID.upper()}"
    id_, outs, inputs = configured.read(scope_id)  # `pulumi import` with the id as typed
    assert id_ == f"{CHANNEL_ID}_{ACCOUNT_ID}" and outs["accountId"] == inputs["accountId"] == ACCOUNT_ID
    news, _ = configured.check({"accountId": ACCOUNT_ID.upper(), "hookApiVersion": "v2"})
    assert news["accountId"] == ACCOUNT_ID
    diff = configured.diff(id_, {**outs, "accountId": ACCOUNT_ID.upper()}, news)
    assert list(diff.replaces) == []
