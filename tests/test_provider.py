"""Provider methods called directly, against the real emulator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dill
import pytest
from constants import CHANNEL_ID, CHANNEL_SECRET
from emulator_helpers import stored
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from kommo_provider.emulator import EmulatorServer
from kommo_provider.exceptions import KommoProviderError
from kommo_provider.model import UNKNOWN
from kommo_provider.provider import KommoChatChannelConnectionProvider

ACCOUNT = "af9945ff-1490-4cad-807d-945c15d88bec"
OTHER_ACCOUNT = "52fd2a28-d2eb-4bd8-b862-b57934927b38"


@pytest.fixture
def provider() -> KommoChatChannelConnectionProvider:
    """A provider configured as the engine does, with request pacing off so tests run at full speed."""
    instance = KommoChatChannelConnectionProvider()
    raw = {"kommo:maxRequestsPerSecond": "0", "kommo:readTimeout": "2", "kommo:maxRetries": "2"}
    instance.configure(ConfigureRequest(Config(raw_config=raw, project_name="kommo-provider")))
    return instance


def inputs(emulator: EmulatorServer, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "channel_id": CHANNEL_ID,
        "channel_secret": CHANNEL_SECRET,
        "account_id": ACCOUNT,
        "title": "Support bot",
        "hook_api_version": "v2",
        "base_url": emulator.url,
    }
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


# -- check -------------------------------------------------------------------------------------


def test_check_accepts_valid_inputs_normalizes_and_makes_no_request(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer
) -> None:
    result = provider.check({}, inputs(emulator, hook_api_version=None, base_url=emulator.url + "/"))
    assert result.failures == []
    assert result.inputs["hook_api_version"] == "v2"
    assert result.inputs["base_url"] == emulator.url
    assert emulator.backend.requests() == []


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("channel_id", "not-a-uuid", "UUID"),
        ("account_id", 42, "UUID"),
        ("account_id", None, "kommo:accountId"),
        ("channel_id", None, "kommo:channelId"),
        ("channel_secret", None, "kommo:channelSecret"),
        ("hook_api_version", "v3", "'v1' or 'v2'"),
        ("title", "  ", "non-empty"),
        ("is_time_window_disabled", "yes", "true or false"),
        ("base_url", "http://amojo.kommo.com", "https"),
        ("base_url", "ftp://x", "region"),
    ],
)
def test_check_names_the_bad_field(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, field: str, value: Any, words: str
) -> None:
    props = inputs(emulator)
    props[field] = value
    if value is None:
        del props[field]
    failures = provider.check({}, props).failures
    assert [f.property for f in failures] == [field]
    assert words in failures[0].reason


def test_check_never_echoes_the_secret(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer
) -> None:
    failures = provider.check({}, inputs(emulator, channel_secret=f" {CHANNEL_SECRET} ")).failures
    assert [f.property for f in failures] == ["channel_secret"]
    assert CHANNEL_SECRET not in failures[0].reason


def test_check_tolerates_unknowns_during_preview(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer
) -> None:
    props = inputs(
        emulator,
        channel_id=UNKNOWN,
        account_id=UNKNOWN,
        channel_secret=UNKNOWN,
        title=UNKNOWN,
        base_url=UNKNOWN,
    )
    result = provider.check({}, props)
    assert result.failures == []
    assert result.inputs["base_url"] == UNKNOWN


# -- diff --------------------------------------------------------------------------------------


@pytest.fixture
def created(provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer) -> dict[str, Any]:
    outs = provider.create(provider.check({}, inputs(emulator)).inputs).outs
    assert outs is not None
    return dict(outs)


def test_diff_no_change_and_provider_blob_ignored(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    news = provider.check({}, inputs(emulator)).inputs
    news["__provider"] = "something-else"
    result = provider.diff(created["scope_id"], created, news)
    assert result.changes is False and result.replaces == []


@pytest.mark.parametrize(
    ("change", "replaces", "dbr"),
    [
        ({"title": "New title"}, [], False),
        ({"hook_api_version": "v1"}, [], False),
        ({"is_time_window_disabled": True}, [], False),
        ({"channel_secret": "f" * 40}, [], False),
        ({"reconnect_triggers": ["2026-11-25"]}, [], False),
        ({"account_id": OTHER_ACCOUNT}, ["account_id"], False),
        ({"channel_id": "11111111-2222-4333-8444-555555555555"}, ["channel_id"], False),
        ({"base_url": "http://localhost:1"}, ["base_url"], True),
        ({"base_url": "http://localhost:1", "account_id": OTHER_ACCOUNT}, ["account_id", "base_url"], False),
    ],
)
def test_diff_plans(
    provider: KommoChatChannelConnectionProvider,
    emulator: EmulatorServer,
    created: dict[str, Any],
    change: dict[str, Any],
    replaces: list[str],
    dbr: bool,
) -> None:
    news = provider.check({}, inputs(emulator, **change)).inputs
    result = provider.diff(created["scope_id"], created, news)
    assert result.changes is True
    assert result.replaces == replaces
    assert bool(result.delete_before_replace) is dbr
    assert len(emulator.backend.requests()) == 1  # only the create


def test_diff_left_out_optionals_keep_what_kommo_has(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    news = provider.check({}, inputs(emulator, title=None)).inputs
    assert provider.diff(created["scope_id"], created, news).changes is False


def test_diff_unknown_replace_field_is_a_change(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    news = provider.check({}, inputs(emulator, account_id=UNKNOWN)).inputs
    result = provider.diff(created["scope_id"], created, news)
    assert result.changes is True and result.replaces == ["account_id"]


# -- create / update / delete / read ------------------------------------------------------------


def test_create_connects_and_returns_the_servers_scope_id(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer
) -> None:
    result = provider.create(inputs(emulator))
    assert result.outs is not None
    connection = stored(emulator, CHANNEL_ID, ACCOUNT)
    assert connection.connected
    assert result.id == connection.scope_id == result.outs["scope_id"]
    assert result.outs == {
        "scope_id": connection.scope_id,
        "channel_id": CHANNEL_ID,
        "account_id": ACCOUNT,
        "title": "Support bot",
        "hook_api_version": "v2",
        "is_time_window_disabled": False,
        "base_url": emulator.url,
        "channel_secret": CHANNEL_SECRET,
        "reconnect_triggers": None,
    }


def test_failed_create_raises_one_clear_sentence_without_the_secret(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer
) -> None:
    wrong = "0" * 40
    with pytest.raises(KommoProviderError) as info:
        provider.create(inputs(emulator, channel_secret=wrong))
    message = str(info.value)
    assert "signature" in message and "clock" in message and ACCOUNT in message
    assert wrong not in message and CHANNEL_SECRET not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert emulator.backend.connections() == []


def test_create_on_unknown_channel_names_it(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer
) -> None:
    unknown = "11111111-2222-4333-8444-555555555555"
    with pytest.raises(KommoProviderError, match=unknown):
        provider.create(inputs(emulator, channel_id=unknown))


def test_update_reconnects_and_returns_every_output(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    news = provider.check({}, inputs(emulator, title="Renamed", is_time_window_disabled=True)).inputs
    outs = provider.update(created["scope_id"], created, news).outs
    assert outs is not None
    assert outs["title"] == "Renamed" and outs["is_time_window_disabled"] is True
    assert outs["scope_id"] == created["scope_id"]
    assert set(outs) == set(created)
    assert stored(emulator, CHANNEL_ID, ACCOUNT).title == "Renamed"


def test_secret_rotation_connects_with_the_new_secret(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    new_secret = "a" * 40
    emulator.backend.add_channel(CHANNEL_ID, new_secret)
    try:
        news = provider.check({}, inputs(emulator, channel_secret=new_secret)).inputs
        outs = provider.update(created["scope_id"], created, news).outs
    finally:
        emulator.backend.add_channel(CHANNEL_ID, CHANNEL_SECRET)
    assert outs is not None and outs["channel_secret"] == new_secret
    assert [r.status for r in emulator.backend.requests()] == [200, 200]


def test_failed_update_raises_and_changes_nothing(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    news = provider.check({}, inputs(emulator, title="Renamed", channel_secret="0" * 40)).inputs
    with pytest.raises(KommoProviderError):
        provider.update(created["scope_id"], created, news)
    assert stored(emulator, CHANNEL_ID, ACCOUNT).title == "Support bot"


def test_delete_disconnects(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    provider.delete(created["scope_id"], created)
    assert not stored(emulator, CHANNEL_ID, ACCOUNT).connected


def test_delete_of_already_disconnected_or_unknown_channel_counts_as_gone(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    provider.delete(created["scope_id"], created)
    provider.delete(created["scope_id"], created)  # amojo answers 200 for a not-connected account
    gone = dict(created, channel_id="11111111-2222-4333-8444-555555555555")
    provider.delete(created["scope_id"], gone)  # 404: the channel no longer exists


def test_failed_delete_raises_so_the_resource_stays(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    emulator.faults.script(["500"] * 10)
    with pytest.raises(KommoProviderError, match="stays in state"):
        provider.delete(created["scope_id"], dict(created))
    emulator.faults.clear()
    assert stored(emulator, CHANNEL_ID, ACCOUNT).connected


def test_read_returns_stored_state_without_a_request(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer, created: dict[str, Any]
) -> None:
    before = len(emulator.backend.requests())
    result = provider.read(created["scope_id"], dict(created))
    assert result.id == created["scope_id"] and result.outs == created
    assert len(emulator.backend.requests()) == before


def test_concurrent_creates_on_one_provider_instance(
    provider: KommoChatChannelConnectionProvider, emulator: EmulatorServer
) -> None:
    accounts = [f"00000000-0000-4000-8000-{i:012d}" for i in range(24)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda a: provider.create(inputs(emulator, account_id=a)), accounts))
    assert [(r.outs or {}).get("account_id") for r in results] == accounts
    assert {r.id for r in results} == {f"{CHANNEL_ID}_{a}" for a in accounts}
    assert len(emulator.backend.connections()) == 24


def test_provider_pickles_small_and_without_state(provider: KommoChatChannelConnectionProvider) -> None:
    blob = dill.dumps(provider, recurse=True)
    assert len(blob) < 200
    assert b"kommo_provider.provider" in blob  # by reference, not by value
    assert CHANNEL_SECRET.encode() not in blob
