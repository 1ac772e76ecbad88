"""The plugin's REST API v4 half over gRPC against the emulator: lookups, Source, Webhook.

Each test drives the plugin process as the engine does and checks what Kommo (the emulator) holds:
ids the server returned, drift made out of band, previews that send nothing that changes Kommo, and
errors as one sentence naming the provider property to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET
from plugin_harness import PluginProcess
from rest_helpers import ACME_B_TOKEN, ACME_TOKEN, GLOBEX_TOKEN

from kommo_provider.emulator import EmulatorServer
from kommo_provider.emulator.rest import mint_token
from kommo_provider.model import UNKNOWN
from kommo_provider.plugin.wire import Secret, is_secret

SOURCE = "kommo:index:Source"
WEBHOOK = "kommo:index:Webhook"
HOOK_URL = "https://bot.example.com/kommo/events"


@pytest.fixture(scope="module")
def plugin() -> Iterator[PluginProcess]:
    with PluginProcess() as process:
        yield process


def config(emulator: EmulatorServer, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "accountDomain": "acme",
        "accessToken": Secret(ACME_TOKEN),
        "apiBaseUrl": emulator.url,
        "maxRequestsPerSecond": 0,
        "maxRetries": 1,
        "readTimeout": 2,
    }
    values.update(overrides)
    return values


@pytest.fixture
def rest(plugin: PluginProcess, emulator: EmulatorServer) -> PluginProcess:
    plugin.configure(config(emulator))
    return plugin


def details(error: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    return error.value.details() or ""


def writes(emulator: EmulatorServer) -> list[tuple[str, str]]:
    """Requests that change something at Kommo (anything but a read)."""
    return [(r.method, r.path) for r in emulator.backend.requests() if r.method != "GET"]


# -- lookups ------------------------------------------------------------------------------------------


def test_get_account_answers_the_amojo_id_a_connection_takes(rest: PluginProcess) -> None:
    account = rest.invoke("kommo:index:getAccount")
    assert account == {"id": 41_000_001, "name": "Acme", "subdomain": "acme", "amojoId": ACCOUNT_ID}


def test_get_pipelines_names_the_main_one(rest: PluginProcess, emulator: EmulatorServer) -> None:
    result = rest.invoke("kommo:index:getPipelines")
    names = {p["name"]: p for p in result["pipelines"]}
    assert set(names) == {"Sales", "Support"} and names["Sales"]["isMain"] is True
    assert result["mainPipelineId"] == names["Sales"]["id"] == emulator.rest.account("acme").pipelines[0].id


def test_a_wrong_token_fails_in_one_sentence_naming_access_token(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    stranger = mint_token(
        account_id=1, integration_id="x", user_id=1, issued_at=1, expires_at=4_102_444_800, token_id="z"
    )
    plugin.configure(config(emulator, accessToken=Secret(stranger)))
    try:
        with pytest.raises(grpc.RpcError) as info:
            plugin.invoke("kommo:index:getAccount")
    finally:
        plugin.configure(config(emulator))
    text = details(info)
    assert "accessToken" in text and "401" in text and "\n" not in text and stranger not in text


def test_a_provider_without_the_rest_group_names_what_to_set(plugin: PluginProcess) -> None:
    plugin.configure({"channelId": CHANNEL_ID, "channelSecret": Secret(CHANNEL_SECRET)})
    _, failures = plugin.check({"name": "Chats", "externalId": "chats"}, typ=SOURCE)
    reasons = " ".join(r for _, r in failures)
    assert "set accountDomain on the kommo provider" in reasons and "kommo:accessToken" in reasons
    with pytest.raises(grpc.RpcError) as info:
        plugin.invoke("kommo:index:getPipelines")
    assert "accountDomain" in details(info)


def test_an_expired_token_fails_at_check_config_without_being_shown(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    expired = mint_token(
        account_id=1, integration_id="x", user_id=1, issued_at=1, expires_at=1_700_000_000, token_id="e"
    )
    _, failures = plugin.check_config(config(emulator, accessToken=Secret(expired)))
    [(prop, reason)] = failures
    assert prop == "accessToken" and "expired on 2023-11-14" in reason and expired not in reason


# -- Source --------------------------------------------------------------------------------------------


def test_source_lifecycle_and_drift(rest: PluginProcess, emulator: EmulatorServer) -> None:
    news, failures = rest.check({"name": "Chats", "externalId": "chat-channel"}, typ=SOURCE)
    assert failures == []
    _, preview = rest.create(news, preview=True, typ=SOURCE)
    assert preview["sourceId"] == UNKNOWN and preview["pipelineId"] == UNKNOWN
    assert writes(emulator) == []

    id_, outs = rest.create(news, typ=SOURCE)
    [made] = emulator.rest.sources("acme")
    assert id_ == str(made.id) == str(int(outs["sourceId"])) and outs["pipelineId"] == made.pipeline_id
    assert rest.diff(id_, outs, news, typ=SOURCE).changes == grpc_none()

    emulator.rest.change_source(made.id, name="Renamed by hand")  # drift
    _, refreshed, inputs = rest.read(id_, outs, news, typ=SOURCE)
    assert refreshed["name"] == "Renamed by hand" and inputs["name"] == "Renamed by hand"
    diff = rest.diff(id_, refreshed, news, typ=SOURCE)
    assert list(diff.diffs) == ["name"] and not diff.replaces
    restored = rest.update(id_, refreshed, news, typ=SOURCE)
    assert restored["name"] == "Chats" and emulator.rest.sources("acme")[0].name == "Chats"

    emulator.rest.remove_source(made.id)  # deleted out of band: refresh drops it from state
    assert rest.read(id_, restored, news, typ=SOURCE)[0] == ""

    id_, outs = rest.create(news, typ=SOURCE)
    rest.delete(id_, outs, typ=SOURCE)
    assert emulator.rest.sources("acme") == []
    rest.delete(id_, outs, typ=SOURCE)  # already gone: still deleted


def test_import_reads_the_whole_source_so_a_matching_program_shows_no_diff(
    rest: PluginProcess, emulator: EmulatorServer
) -> None:
    support = emulator.rest.account("acme").pipelines[1].id
    news, _ = rest.check({"name": "WhatsApp", "externalId": "wa-1", "pipelineId": support}, typ=SOURCE)
    id_, _ = rest.create(news, typ=SOURCE)
    emulator.backend.requests()  # what follows is the import's
    imported_id, outs, inputs = rest.read(id_, typ=SOURCE)
    assert imported_id == id_
    assert inputs == {"name": "WhatsApp", "externalId": "wa-1", "pipelineId": support, "default": False}
    assert outs["sourceId"] == int(id_)
    program, _ = rest.check({"name": "WhatsApp", "externalId": "wa-1", "pipelineId": support}, typ=SOURCE)
    assert rest.diff(id_, outs, program, typ=SOURCE).changes == grpc_none()
    with pytest.raises(grpc.RpcError) as info:
        rest.read("99999999", typ=SOURCE)
    assert "has no source with that id" in details(info)


def test_another_integrations_token_neither_sees_nor_imports_the_source(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    plugin.configure(config(emulator))
    id_, outs = plugin.create({"name": "Chats", "externalId": "mine"}, typ=SOURCE)
    plugin.configure(config(emulator, accessToken=Secret(ACME_B_TOKEN)))
    try:
        assert plugin.read(id_, outs, {}, typ=SOURCE)[0] == ""
    finally:
        plugin.configure(config(emulator))


@pytest.mark.parametrize(
    ("prop", "value", "words"),
    [
        ("externalId", "x" * 41, "1 to 40 characters"),
        ("externalId", "héllo", "printable ASCII"),
        ("originCode", "12345", "only digits"),
        ("originCode", "x" * 21, "1 to 20"),
        ("pipelineId", 0, "positive"),
        ("pipelineId", "1", "whole number"),
        ("name", "", "non-empty"),
        ("services", [{"type": "telegram"}], "[0].type"),
        ("services", [{"type": "whatsapp", "pages": [{"name": "x"}]}], "pages"),
        ("services", [{"kind": "whatsapp"}], "'kind' is not a property"),
    ],
)
def test_bad_source_inputs_fail_at_check_naming_the_property(
    rest: PluginProcess, emulator: EmulatorServer, prop: str, value: Any, words: str
) -> None:
    _, failures = rest.check({"name": "Chats", "externalId": "chats", prop: value}, typ=SOURCE)
    [(name, reason)] = failures
    assert name == prop and reason.startswith(prop) and words in reason
    assert emulator.backend.requests() == []


def test_kommos_own_refusal_is_one_sentence_and_leaves_nothing(
    rest: PluginProcess, emulator: EmulatorServer
) -> None:
    rest.create({"name": "First", "externalId": "dup"}, typ=SOURCE)
    with pytest.raises(grpc.RpcError) as info:
        rest.create({"name": "Second", "externalId": "dup"}, typ=SOURCE)
    text = details(info)
    assert text.startswith("creating source 'dup' failed: Kommo rejected the request data (400)")
    assert "external_id" in text and "\n" not in text
    assert [s.name for s in emulator.rest.sources("acme")] == ["First"]


# -- Webhook -------------------------------------------------------------------------------------------


def test_webhook_lifecycle_a_disabled_hook_shows_and_up_enables_it(
    rest: PluginProcess, emulator: EmulatorServer
) -> None:
    news, failures = rest.check(
        {"destination": HOOK_URL, "settings": ["add_message", "add_lead"]}, typ=WEBHOOK
    )
    assert failures == []
    id_, outs = rest.create(news, typ=WEBHOOK)
    [hook] = emulator.rest.webhooks("acme")
    assert id_ == HOOK_URL and outs["webhookId"] == hook.id and outs["disabled"] is False
    assert rest.diff(id_, outs, news, typ=WEBHOOK).changes == grpc_none()

    emulator.rest.change_webhook(hook.id, disabled=True)
    _, refreshed, _ = rest.read(id_, outs, news, typ=WEBHOOK)
    assert refreshed["disabled"] is True
    diff = rest.diff(id_, refreshed, news, typ=WEBHOOK)
    assert list(diff.diffs) == ["disabled"] and not diff.replaces
    enabled = rest.update(id_, refreshed, news, typ=WEBHOOK)
    assert enabled["disabled"] is False and emulator.rest.webhooks("acme")[0].disabled is False

    moved, _ = rest.check({"destination": HOOK_URL + "/v2", "settings": ["add_message"]}, typ=WEBHOOK)
    assert list(rest.diff(id_, enabled, moved, typ=WEBHOOK).replaces) == ["destination"]

    rest.delete(id_, enabled, typ=WEBHOOK)
    assert emulator.rest.webhooks("acme") == []
    assert rest.read(id_, enabled, news, typ=WEBHOOK)[0] == ""


def test_webhook_import_by_destination(rest: PluginProcess, emulator: EmulatorServer) -> None:
    rest.create({"destination": HOOK_URL, "settings": ["add_message"], "sort": 5}, typ=WEBHOOK)
    id_, outs, inputs = rest.read(HOOK_URL, typ=WEBHOOK)
    assert id_ == HOOK_URL and inputs == {"destination": HOOK_URL, "settings": ["add_message"], "sort": 5}
    program, _ = rest.check(inputs, typ=WEBHOOK)
    assert rest.diff(id_, outs, program, typ=WEBHOOK).changes == grpc_none()


@pytest.mark.parametrize(
    ("prop", "value", "words"),
    [
        ("destination", "http://bot.example.com/hook", "https"),
        ("destination", "ftp://bot.example.com", "https URL"),
        ("destination", "https://user:pw@bot.example.com", "credentials"),
        ("destination", "not a url", "whitespace"),
        ("settings", ["add_lead", "buy_pizza"], "'buy_pizza'"),
        ("settings", [], "at least one"),
        ("settings", "add_lead", "list of strings"),
        ("sort", -1, "from 0"),
    ],
)
def test_bad_webhook_inputs_fail_at_check(rest: PluginProcess, prop: str, value: Any, words: str) -> None:
    news = {"destination": HOOK_URL, "settings": ["add_lead"], prop: value}
    _, failures = rest.check(news, typ=WEBHOOK)
    [(name, reason)] = failures
    assert name == prop and words in reason


def test_the_token_never_reaches_state_or_a_message(rest: PluginProcess, emulator: EmulatorServer) -> None:
    inputs, _ = rest.check_config(config(emulator, accessToken=GLOBEX_TOKEN))  # given as plain text
    assert is_secret(inputs["accessToken"])
    _, outs = rest.create({"name": "Chats", "externalId": "chats"}, typ=SOURCE)
    assert ACME_TOKEN not in json.dumps({k: str(v) for k, v in outs.items()})


def grpc_none() -> int:
    from pulumi.runtime.proto import provider_pb2

    return int(provider_pb2.DiffResponse.DIFF_NONE)
