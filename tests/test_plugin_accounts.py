"""The plugin's account half over gRPC against the emulator: a fleet of accounts through one provider.

The lifecycle every resource shares is ``test_lifecycle_contract.py``; here is what is particular to
accounts: lookups by account, each account's token (``accessTokens``, ``accessToken``, ``tokenCommand``),
ids that carry the account (and 0.3.0's ids that do not), objects that already exist, and errors as
one sentence that names the account and where its token came from.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from emulator_helpers import wait_for_requests
from plugin_harness import PluginProcess, details, provider_config, writes
from rest_helpers import ACME_ID, ACME_TOKEN, GLOBEX_ID, GLOBEX_TOKEN
from token_command import LEAKED

from kommo_provider.emulator import EmulatorServer
from kommo_provider.emulator.rest import mint_token
from kommo_provider.plugin.wire import Secret, is_secret

SOURCE = "kommo:index:Source"
WEBHOOK = "kommo:index:Webhook"
GET_ACCOUNT = "kommo:index:getAccount"
HOOK_URL = "https://bot.example.com/kommo/events"
STRANGER = mint_token(
    account_id=1, integration_id="x", user_id=1, issued_at=1, expires_at=4_102_444_800, token_id="z"
)
"""Well formed and unexpired: only Kommo can refuse it."""
TOKEN_COMMAND = Path(__file__).with_name("token_command.py")


# -- lookups, by account -------------------------------------------------------------------------------


def test_get_account_of_the_default_account_and_of_any_account_by_its_host(configured: PluginProcess) -> None:
    assert configured.invoke(GET_ACCOUNT)["id"] == ACME_ID
    assert configured.invoke(GET_ACCOUNT, {"account": "globex.kommo.com"})["id"] == GLOBEX_ID
    assert configured.invoke(GET_ACCOUNT, {"account": "globex"})["id"] == GLOBEX_ID  # a bare subdomain
    pipelines = configured.invoke("kommo:index:getPipelines", {"account": "globex"})
    assert pipelines["mainPipelineId"] in [p["id"] for p in pipelines["pipelines"]]


@pytest.mark.parametrize(
    ("args", "prop", "words"),
    [
        ({"account": "www"}, "account", "subdomain"),
        ({"account": "https://acme.kommo.com"}, "account", "host only"),
        ({"acount": "acme"}, "acount", "not an argument"),
    ],
)
def test_a_bad_lookup_argument_fails_naming_it_and_sends_nothing(
    configured: PluginProcess, emulator: EmulatorServer, args: dict[str, Any], prop: str, words: str
) -> None:
    _, failures = configured.invoke_checked(GET_ACCOUNT, args)
    assert [p for p, _ in failures] == [prop] and words in failures[0][1]
    assert emulator.backend.requests() == []


def test_an_account_without_a_token_is_named_with_what_to_set(configured: PluginProcess) -> None:
    with pytest.raises(grpc.RpcError) as info:
        configured.invoke(GET_ACCOUNT, {"account": "initech"})
    text = details(info)
    assert "account initech.kommo.com has no access token" in text and "accessTokens" in text
    _, failures = configured.check({"name": "Chats", "externalId": "c", "account": "initech"}, typ=SOURCE)
    assert [p for p, _ in failures] == ["account"] and "tokenCommand" in failures[0][1]


def test_a_provider_without_a_default_account_needs_account_on_each_object(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    plugin.configure(provider_config(emulator, accountDomain=None, accessToken=None))
    _, failures = plugin.check({"name": "Chats", "externalId": "chats"}, typ=SOURCE)
    assert [p for p, _ in failures] == ["account"]
    assert "set account on the resource" in failures[0][1] and "accountDomain" in failures[0][1]
    news, failures = plugin.check({"name": "Chats", "externalId": "chats", "account": "globex"}, typ=SOURCE)
    assert failures == []
    id_, outs = plugin.create(news, typ=SOURCE)
    [made] = emulator.rest.sources("globex")
    assert id_ == f"globex.kommo.com/{made.id}" and outs["account"] == "globex.kommo.com"


def test_a_refused_token_names_the_account_and_where_its_token_came_from(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    plugin.configure(provider_config(emulator, accessToken=Secret(STRANGER)))
    with pytest.raises(grpc.RpcError) as info:
        plugin.invoke(GET_ACCOUNT)
    text = details(info)
    assert "acme.kommo.com" in text and "401" in text and "accessToken on the kommo provider" in text
    assert "\n" not in text and STRANGER not in text


# -- ids that carry the account, and 0.3.0's --------------------------------------------------------------


def test_each_account_s_objects_are_made_with_its_own_token(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    for account in ("acme", "globex"):
        news, _ = configured.check({"name": "Chats", "externalId": "chats", "account": account}, typ=SOURCE)
        configured.create(news, typ=SOURCE, name=account)
    assert [s.external_id for s in emulator.rest.sources("acme")] == ["chats"]
    assert [s.external_id for s in emulator.rest.sources("globex")] == ["chats"]


def test_a_source_recorded_by_0_3_0_is_read_updated_and_deleted_through_the_default_account(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    news, _ = configured.check({"name": "Chats", "externalId": "chats"}, typ=SOURCE)
    _, outs = configured.create(news, typ=SOURCE)
    legacy_id = str(int(outs["sourceId"]))  # 0.3.0 ids were the number alone, and state had no account
    legacy = {k: v for k, v in outs.items() if k != "account"}
    new_id, refreshed, _ = configured.read(legacy_id, legacy, news, typ=SOURCE)
    assert new_id == f"acme.kommo.com/{legacy_id}" and refreshed["account"] == "acme.kommo.com"
    assert configured.diff(legacy_id, legacy, news, typ=SOURCE).changes == 1  # DIFF_NONE
    configured.update(legacy_id, legacy, {**news, "name": "Renamed"}, typ=SOURCE)
    assert emulator.rest.sources("acme")[0].name == "Renamed"
    configured.delete(legacy_id, legacy, typ=SOURCE)
    assert emulator.rest.sources("acme") == []


@pytest.mark.parametrize(
    "typed", [" 123 ", "0123", "١٢٣", "acme.kommo.com/0123", "acme.kommo.com/-1", "acme.kommo.com/"]
)
def test_an_import_id_that_is_not_canonical_is_refused_in_one_sentence(
    configured: PluginProcess, emulator: EmulatorServer, typed: str
) -> None:
    with pytest.raises(grpc.RpcError) as info:
        configured.read(typed, typ=SOURCE)
    assert "ASCII digits" in details(info) and "\n" not in details(info)
    assert writes(emulator) == []


def test_a_webhook_imported_by_its_destination_gets_the_id_of_kommo(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    news, _ = configured.check({"destination": HOOK_URL, "settings": ["add_message"], "sort": 5}, typ=WEBHOOK)
    configured.create(news, typ=WEBHOOK)
    [hook] = emulator.rest.webhooks("acme")
    for typed in (HOOK_URL, f"acme.kommo.com/{HOOK_URL}"):
        id_, outs, inputs = configured.read(typed, typ=WEBHOOK)
        assert id_ == f"acme.kommo.com/{hook.id}" and outs["webhookId"] == hook.id
        assert inputs == {
            "account": "acme.kommo.com",
            "destination": HOOK_URL,
            "settings": ["add_message"],
            "sort": 5,
        }
    with pytest.raises(grpc.RpcError) as info:
        configured.read("acme.kommo.com/https://bot.example.com/x#frag", typ=WEBHOOK)
    assert "{got}" not in details(info) and "fragment" in details(info)


# -- a secret destination is never an id ---------------------------------------------------------------------


def test_a_secret_destination_stays_secret_and_every_operation_finds_the_hook(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    keyed = HOOK_URL + "?key=s3cr3t-k3y-in-the-url"
    news, failures = configured.check({"destination": Secret(keyed), "settings": ["add_lead"]}, typ=WEBHOOK)
    assert failures == [] and is_secret(news["destination"])
    id_, outs = configured.create(news, typ=WEBHOOK)
    [hook] = emulator.rest.webhooks("acme")
    assert id_ == f"acme.kommo.com/{hook.id}" and "s3cr3t" not in id_ and is_secret(outs["destination"])
    emulator.rest.change_webhook(hook.id, disabled=True)
    refreshed_id, refreshed, _ = configured.read(id_, outs, news, typ=WEBHOOK)
    assert refreshed_id == id_ and refreshed["disabled"] is True and is_secret(refreshed["destination"])
    configured.delete(id_, refreshed, typ=WEBHOOK)
    assert emulator.rest.webhooks("acme") == []


def test_webhook_events_are_a_set(configured: PluginProcess, emulator: EmulatorServer) -> None:
    news, _ = configured.check(
        {"destination": HOOK_URL, "settings": ["status_lead", "add_lead"]}, typ=WEBHOOK
    )
    id_, outs = configured.create(news, typ=WEBHOOK)
    reordered = {**outs, "settings": ["add_lead", "status_lead"]}  # as another server may answer them
    assert configured.diff(id_, reordered, news, typ=WEBHOOK).changes == 1  # DIFF_NONE


# -- objects that exist already, and two resources on one object --------------------------------------------


def test_a_source_that_exists_already_says_how_to_adopt_it(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    news, _ = configured.check({"name": "Chats", "externalId": "dup"}, typ=SOURCE)
    configured.create(news, typ=SOURCE, name="first")
    [made] = emulator.rest.sources("acme")
    other = PluginProcess()  # another run, where nothing declared this source
    try:
        other.configure(provider_config(emulator))
        with pytest.raises(grpc.RpcError) as info:
            other.create(news, typ=SOURCE, name="second")
    finally:
        other.close()
    text = details(info)
    assert f"pulumi import kommo:index:Source <name> acme.kommo.com/{made.id}" in text and "\n" not in text
    assert len(emulator.rest.sources("acme")) == 1


def test_a_webhook_that_exists_already_is_not_taken_over(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    hook = emulator.rest.subscribe_webhook(
        emulator.rest.authenticate(ACME_TOKEN), HOOK_URL, ["add_lead", "add_contact"], None
    )
    news, _ = configured.check({"destination": HOOK_URL, "settings": ["add_message"]}, typ=WEBHOOK)
    with pytest.raises(grpc.RpcError) as info:
        configured.create(news, typ=WEBHOOK)
    assert f"acme.kommo.com/{hook.id}" in details(info) and "alias" in details(info)
    assert emulator.rest.webhooks("acme")[0].settings == ["add_lead", "add_contact"]  # untouched


def test_two_declared_webhooks_on_one_destination_are_refused_at_preview(run: PluginProcess) -> None:
    news = {"destination": HOOK_URL, "settings": ["add_lead"]}
    assert run.check(news, "first", typ=WEBHOOK)[1] == []
    _, failures = run.check(news, "second", typ=WEBHOOK)
    assert len(failures) == 1 and "second declares the same object in Kommo as first" in failures[0][1]


def test_a_renamed_source_adopted_by_import_is_not_deleted_by_the_old_name(
    run: PluginProcess, emulator: EmulatorServer
) -> None:
    news, _ = run.check({"name": "Chats", "externalId": "chats"}, "old", typ=SOURCE)
    id_, outs = run.create(news, typ=SOURCE, name="old")
    # The next run: "new" declares the same source with `import: <id>`; "old" is dropped from the program.
    nxt = PluginProcess()
    try:
        nxt.configure(provider_config(emulator))
        nxt.read(id_, typ=SOURCE, name="new")
        assert nxt.check({"name": "Chats", "externalId": "chats"}, "new", typ=SOURCE)[1] == []
        nxt.delete(id_, outs, typ=SOURCE, name="old")
    finally:
        nxt.close()
    assert [s.id for s in emulator.rest.sources("acme")] == [int(outs["sourceId"])]


# -- a create whose answer was lost -----------------------------------------------------------------------

TEMPLATE = "kommo:index:ChatTemplate"
MADE: dict[str, tuple[str, dict[str, Any], Callable[[EmulatorServer], list[Any]]]] = {
    SOURCE: ("source", {"name": "Chats", "externalId": "chats"}, lambda e: e.rest.sources("acme")),
    TEMPLATE: (
        "chat template",
        {"name": "Hi", "content": "Hello!", "externalId": "hi"},
        lambda e: e.rest.objects("chat_templates", "acme"),
    ),
    WEBHOOK: (
        "webhook",
        {"destination": HOOK_URL, "settings": ["add_lead"]},
        lambda e: e.rest.webhooks("acme"),
    ),
}


@pytest.mark.parametrize("fault", ["500-after", "reset-after", "delay-after"])
@pytest.mark.parametrize("typ", [SOURCE, TEMPLATE, WEBHOOK])
def test_a_create_whose_answer_was_lost_adopts_what_kommo_made(
    configured: PluginProcess, emulator: EmulatorServer, typ: str, fault: str
) -> None:
    _, inputs, made = MADE[typ]
    news, _ = configured.check(inputs, typ=typ)
    emulator.faults.delay_seconds = 3  # over the provider's 2 s read timeout
    emulator.faults.script([fault])
    id_, outs = configured.create(news, typ=typ)
    [obj] = made(emulator)
    assert id_ == f"acme.kommo.com/{obj.id}"  # Kommo made it once, and state has it
    assert configured.read(id_, outs, news, typ=typ)[0] == id_
    sent = len(emulator.backend.requests())
    if fault == "delay-after":  # the timed-out request is logged when its answer is finally sent
        assert any(r.fault == fault for r in wait_for_requests(emulator, sent + 1))


def test_a_create_whose_outcome_stays_unknown_says_so_and_the_next_up_says_how_to_adopt(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    news, _ = configured.check({"name": "Chats", "externalId": "chats"}, typ=SOURCE)
    emulator.faults.script(["reset-after", "503", "503"])  # the lookup fails too (one retry)
    with pytest.raises(grpc.RpcError) as info:
        configured.create(news, typ=SOURCE)
    text = details(info)
    assert "may have succeeded" in text and "broke after the request was sent" in text
    assert "could not reach" not in text and "\n" not in text
    [made] = emulator.rest.sources("acme")  # Kommo made it; state has nothing
    with pytest.raises(grpc.RpcError) as info:
        configured.create(news, typ=SOURCE)
    assert f"pulumi import kommo:index:Source <name> acme.kommo.com/{made.id}" in details(info)
    assert len(emulator.rest.sources("acme")) == 1


def test_a_create_kommo_refused_made_nothing_and_says_so(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    news, _ = configured.check({"name": "Chats", "externalId": "chats"}, typ=SOURCE)
    emulator.faults.script(
        ["500", "500"]
    )  # before the commit: nothing was made, and the lookup finds nothing
    with pytest.raises(grpc.RpcError) as info:
        configured.create(news, typ=SOURCE)
    assert "so nothing was made" in details(info)
    assert emulator.rest.sources("acme") == []


# -- tokenCommand ---------------------------------------------------------------------------------------


@pytest.fixture
def token_store(tmp_path: Path) -> Callable[[dict[str, Any]], tuple[list[str], Path]]:
    """A vendor's token store and the command that reads it; returns the command and its run log."""

    def make(store: dict[str, Any]) -> tuple[list[str], Path]:
        path, log = tmp_path / "store.json", tmp_path / "runs.log"
        path.write_text(json.dumps(store), encoding="utf-8")
        return [sys.executable, str(TOKEN_COMMAND), str(path), str(log)], log

    return make


def command_provider(emulator: EmulatorServer, command: list[str], **more: Any) -> dict[str, Any]:
    return provider_config(emulator, accessToken=None, accessTokens=None, tokenCommand=command, **more)


def runs(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").split() if log.exists() else []


def test_token_command_is_run_once_per_account_however_many_calls_wait(
    plugin: PluginProcess, emulator: EmulatorServer, token_store: Callable[..., tuple[list[str], Path]]
) -> None:
    command, log = token_store({"acme.kommo.com": {"accessToken": ACME_TOKEN, "expiresAt": 4_102_444_800},
                                "globex.kommo.com": GLOBEX_TOKEN})  # fmt: skip
    plugin.configure(command_provider(emulator, command))
    with ThreadPoolExecutor(8) as pool:
        found = list(
            pool.map(
                lambda i: plugin.invoke(GET_ACCOUNT, {"account": "globex" if i % 2 else "acme"}), range(16)
            )
        )
    assert {f["id"] for f in found} == {ACME_ID, GLOBEX_ID}
    assert sorted(runs(log)) == ["acme.kommo.com", "globex.kommo.com"]


def test_after_a_401_the_command_is_asked_once_more_and_the_call_succeeds(
    plugin: PluginProcess, emulator: EmulatorServer, token_store: Callable[..., tuple[list[str], Path]]
) -> None:
    command, log = token_store({"acme.kommo.com": [STRANGER, ACME_TOKEN]})  # rotated since it was handed out
    plugin.configure(command_provider(emulator, command))
    assert plugin.invoke(GET_ACCOUNT)["id"] == ACME_ID
    assert runs(log) == ["acme.kommo.com", "acme.kommo.com"]
    statuses = [r.status for r in emulator.backend.requests()]
    assert statuses == [401, 200]


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"exit": 3}, "exited with status 3"),
        ({"print": ""}, "printed nothing"),
        ({"print": "x" * 1_000_000}, "more than 64 KiB"),
        ({"print": "two words"}, "whitespace"),
        ({"print": '{"token": "x"}'}, '"accessToken"'),
        ({"print": '{"accessToken": "t", "expiresAt": "soon"}'}, "expiresAt"),
        ({"sleep": 5, "then": ACME_TOKEN}, "within 1 s"),
    ],
)
def test_a_failing_token_command_fails_the_call_in_one_line_without_its_output(
    plugin: PluginProcess,
    emulator: EmulatorServer,
    token_store: Callable[..., tuple[list[str], Path]],
    entry: dict[str, Any],
    words: str,
) -> None:
    command, _ = token_store({"acme.kommo.com": entry})
    plugin.configure(command_provider(emulator, command, tokenCommandTimeout=1))
    with pytest.raises(grpc.RpcError) as info:
        plugin.invoke(GET_ACCOUNT)
    text = details(info)
    assert (
        text.startswith("getAccount of acme.kommo.com failed")
        or "tokenCommand failed for account acme.kommo.com" in text
    )
    assert words in text and LEAKED not in text and "\n" not in text and len(text) < 400
    assert emulator.backend.requests() == []


def test_a_token_command_whose_program_is_missing_says_so(
    plugin: PluginProcess, emulator: EmulatorServer
) -> None:
    plugin.configure(command_provider(emulator, ["/nonexistent/kommo-token"]))
    with pytest.raises(grpc.RpcError) as info:
        plugin.invoke(GET_ACCOUNT)
    assert "tokenCommand failed for account acme.kommo.com" in details(info) and "was not found" in details(
        info
    )


# -- the provider's own plan --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"apiBaseUrl": "{url}/"}, None),  # the same URL: no change at all
        ({"accountDomain": None, "accessToken": None}, []),  # objects name their accounts from now on
        ({"accountDomain": "globex", "accessToken": Secret(GLOBEX_TOKEN)}, ["accountDomain"]),
        ({"channelId": None, "channelSecret": None}, ["channelId"]),
        ({"tokenCommand": ["kommo-token"]}, []),
        ({"accessTokens": Secret({"initech": STRANGER})}, []),
    ],
)
def test_diff_config_replaces_only_for_another_channel_or_default_account(
    plugin: PluginProcess, emulator: EmulatorServer, change: dict[str, Any], replaces: list[str] | None
) -> None:
    olds = provider_config(emulator)
    change = {k: v.format(url=emulator.url) if isinstance(v, str) else v for k, v in change.items()}
    diff = plugin.diff_config(olds, provider_config(emulator, **change))
    if replaces is None:
        assert diff.changes == diff.DIFF_NONE
    else:
        assert (
            diff.changes == diff.DIFF_SOME
            and list(diff.replaces) == replaces
            and not diff.deleteBeforeReplace
        )


def test_kommos_own_words_never_repeat_a_value_the_program_made_secret(
    configured: PluginProcess, emulator: EmulatorServer
) -> None:
    """Kommo refuses a pipeline it does not have and names it; the program had made the id a secret."""
    news, failures = configured.check(
        {"name": "Chats", "externalId": "chats", "pipelineId": Secret(987654321)}, typ=SOURCE
    )
    assert failures == []
    with pytest.raises(grpc.RpcError) as info:
        configured.create(news, typ=SOURCE)
    text = details(info)
    assert "400" in text and "pipeline_id" in text and "987654321" not in text and "[secret]" in text


def test_the_tokens_never_reach_state_or_a_message(configured: PluginProcess) -> None:
    inputs, _ = configured.check_config({"accountDomain": "acme", "accessTokens": {"acme": ACME_TOKEN}})
    assert is_secret(inputs["accessTokens"])  # given as plain text, kept as a secret
    news, _ = configured.check({"name": "Chats", "externalId": "chats"}, typ=SOURCE)
    _, outs = configured.create(news, typ=SOURCE)
    assert ACME_TOKEN not in json.dumps({k: str(v) for k, v in outs.items()})
