"""The core (``kommo_provider.connection``): the rules both front-ends share, tested once for both.

Validation and planning are pure; connect and disconnect run against the real emulator.
"""

from __future__ import annotations

from typing import Any

import pytest
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET, OTHER_ACCOUNT_ID
from emulator_helpers import stored

from kommo_provider import connection
from kommo_provider.client import ChatApiClient
from kommo_provider.connection import (
    CONNECTION,
    DYNAMIC_CONNECTION,
    plan_change,
    secret_fingerprint,
    validate,
)
from kommo_provider.emulator import EmulatorServer
from kommo_provider.exceptions import ConfigurationError, ConnectionFailedError
from kommo_provider.model import UNKNOWN, Failure, Plan
from kommo_provider.payloads import ChannelCredentials

ALL = DYNAMIC_CONNECTION.names(DYNAMIC_CONNECTION.inputs)
REQUIRED = ("channel_id", "channel_secret", "account_id")
OTHER_CHANNEL = "11111111-2222-4333-8444-555555555555"


def valid(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "channel_id": CHANNEL_ID,
        "channel_secret": CHANNEL_SECRET,
        "account_id": ACCOUNT_ID,
        "title": "Support bot",
        "hook_api_version": "v2",
        "is_time_window_disabled": False,
        "base_url": "kommo",
        "reconnect_triggers": ["2026-11-25"],
    }
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


# -- validate ----------------------------------------------------------------------------------------


def test_valid_inputs_have_no_failures() -> None:
    assert validate(valid()) == []


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("channel_id", "not-a-uuid", "UUID"),
        ("channel_id", f"{CHANNEL_ID}\n", "UUID"),
        ("account_id", f"{ACCOUNT_ID}\n", "UUID"),
        ("account_id", f" {ACCOUNT_ID}", "UUID"),
        ("account_id", 42, "UUID"),
        ("channel_secret", f"{CHANNEL_SECRET}\n", "whitespace"),
        ("channel_secret", 7, "string"),
        ("title", "  ", "non-empty"),
        ("hook_api_version", "v3", "'v1' or 'v2'"),
        ("is_time_window_disabled", "yes", "true or false"),
        ("base_url", "http://[::1", "not a valid URL"),
        ("base_url", "http://amojo.kommo.com", "https"),
    ],
)
def test_each_bad_value_is_one_failure_for_its_field(field: str, value: Any, words: str) -> None:
    failures = validate(valid(**{field: value}))
    assert [f.field for f in failures] == [field]
    assert words in failures[0].reason and not failures[0].missing
    assert CHANNEL_SECRET not in failures[0].reason


@pytest.mark.parametrize("field", REQUIRED)
def test_a_missing_required_value_is_marked_missing_with_no_wording(field: str) -> None:
    props = valid()
    del props[field]
    assert validate(props) == [Failure(field, missing=True)]


def test_the_plugin_resource_checks_only_its_own_inputs() -> None:
    """In the plugin the channel comes from the provider: the resource's table does not hold it."""
    props = valid(channel_id="bad", title="  ")
    assert [f.field for f in CONNECTION.validate(props)] == ["title"]
    assert CONNECTION.validate({"account_id": ACCOUNT_ID}) == []


def test_unknown_values_wait_until_they_are_known() -> None:
    props = {field: UNKNOWN for field in ALL}
    assert validate(props) == []


def test_normalize_fills_the_hook_version_and_resolves_the_host() -> None:
    out = DYNAMIC_CONNECTION.normalize(valid(hook_api_version=None, base_url="amocrm.ru"))
    assert out["hook_api_version"] == "v2" and out["base_url"] == "https://amojo.amocrm.ru"


def test_uuids_are_canonical_in_lower_case() -> None:
    out = DYNAMIC_CONNECTION.normalize(valid(account_id=ACCOUNT_ID.upper(), channel_id=CHANNEL_ID.upper()))
    assert (out["account_id"], out["channel_id"]) == (ACCOUNT_ID, CHANNEL_ID)


@pytest.mark.parametrize(
    ("field", "value", "hidden"),
    [
        ("title", "my-s3cret\n", "my-s3cret"),
        ("hook_api_version", "my-s3cret", "my-s3cret"),
        ("account_id", "not-a-uuid-s3cret", "s3cret"),
        ("is_time_window_disabled", "s3cret", "s3cret"),
        ("base_url", "https://user:pa55word@host/path", "pa55word"),
        ("base_url", "https://host/s3cret-path", "s3cret"),
        ("base_url", "ftp://s3cret-host", "s3cret"),
    ],
)
def test_a_value_the_program_made_secret_is_never_shown(field: str, value: Any, hidden: str) -> None:
    (failure,) = validate(valid(**{field: value}), secret=(field,))
    assert hidden not in failure.reason
    (shown,) = validate(valid(**{field: value}))  # the same value, not secret: only its credentials go
    assert ("got" in shown.reason) is ("got" in failure.reason)


def test_url_credentials_and_long_values_are_not_echoed() -> None:
    (failure,) = validate(valid(base_url="https://user:pa55word@amojo.kommo.com/x"))
    assert "pa55word" not in failure.reason
    (failure,) = validate(valid(title="x" * 1_000_000))
    assert len(failure.reason) < 300 and "1000000 characters" in failure.reason
    (failure,) = validate(valid(hook_api_version="y" * 10_000))
    assert len(failure.reason) < 300 and "10000 characters" in failure.reason


# -- plan_change -------------------------------------------------------------------------------------


def stored_state(**overrides: Any) -> dict[str, Any]:
    state = valid(base_url="https://amojo.kommo.com", **overrides)
    state["secret_fingerprint"] = secret_fingerprint(state.pop("channel_secret"))
    return state


@pytest.mark.parametrize(
    ("change", "plan"),
    [
        ({}, Plan()),
        ({"title": "New"}, Plan(updates=("title",))),
        ({"hook_api_version": "v1"}, Plan(updates=("hook_api_version",))),
        ({"is_time_window_disabled": True}, Plan(updates=("is_time_window_disabled",))),
        ({"reconnect_triggers": ["2026-12-01"]}, Plan(updates=("reconnect_triggers",))),
        ({"secret_fingerprint": secret_fingerprint("f" * 40)}, Plan(updates=("secret_fingerprint",))),
        ({"account_id": OTHER_ACCOUNT_ID}, Plan(replaces=("account_id",))),
        ({"channel_id": OTHER_CHANNEL}, Plan(replaces=("channel_id",))),
        ({"base_url": "amocrm.com"}, Plan(replaces=("base_url",), delete_before_replace=True)),
        ({"base_url": "kommo"}, Plan()),  # the same host, written as its region name
        (
            {"base_url": "amocrm.com", "account_id": OTHER_ACCOUNT_ID},
            Plan(replaces=("account_id", "base_url")),
        ),
        ({"title": None}, Plan()),  # left out: keep what Kommo has
        ({"is_time_window_disabled": None}, Plan()),
        ({"account_id": UNKNOWN}, Plan(replaces=("account_id",))),
        ({"title": UNKNOWN}, Plan(updates=("title",))),
    ],
)
def test_plan_change(change: dict[str, Any], plan: Plan) -> None:
    olds = stored_state()
    news = {**olds, **change}
    assert plan_change(olds, news) == plan
    assert plan.changes is bool(plan.replaces or plan.updates)


def test_a_difference_of_case_alone_is_no_change() -> None:
    olds = stored_state(account_id=ACCOUNT_ID.upper(), channel_id=CHANNEL_ID.upper())
    assert plan_change(olds, stored_state()) == Plan()


@pytest.mark.parametrize("value", [5, 5.0, True, ["x"], {"a": 1}, "no host"])
def test_hand_edited_state_plans_without_raising(value: Any) -> None:
    """State someone edited by hand (``baseUrl: 5``) is just different: replace, never a crash."""
    olds = {**stored_state(), "base_url": value}
    plan = plan_change(olds, stored_state())
    assert plan.replaces == ("base_url",)


def test_a_field_the_stored_state_lacks_is_applied_with_one_reconnect() -> None:
    """An imported connection knows only its ids: the program's settings apply at the next up."""
    imported = {"channel_id": CHANNEL_ID, "account_id": ACCOUNT_ID, "base_url": "https://amojo.kommo.com"}
    plan = plan_change(imported, stored_state())
    assert plan.replaces == ()
    assert set(plan.updates) == {
        "title",
        "hook_api_version",
        "is_time_window_disabled",
        "secret_fingerprint",
        "reconnect_triggers",
    }


def test_secret_fingerprint_is_stable_one_way_and_differs_per_secret() -> None:
    first = secret_fingerprint(CHANNEL_SECRET)
    assert first == secret_fingerprint(CHANNEL_SECRET)
    assert first != secret_fingerprint("0" * 40)
    assert CHANNEL_SECRET not in first and len(first) == 32


# -- ids ---------------------------------------------------------------------------------------------


def test_account_from_scope_id() -> None:
    assert connection.account_from_scope_id(f"{CHANNEL_ID}_{ACCOUNT_ID}", CHANNEL_ID) == ACCOUNT_ID


@pytest.mark.parametrize(
    ("scope_id", "words"),
    [
        ("opaque", "is not shaped"),
        (f"{CHANNEL_ID}-{ACCOUNT_ID}", "is not shaped"),
        (f"{CHANNEL_ID}_{ACCOUNT_ID}\n", "is not shaped"),
        (f"{CHANNEL_ID}_nope", "is not shaped"),
        (f"{OTHER_CHANNEL}_{ACCOUNT_ID}", f"belongs to channel {OTHER_CHANNEL}"),
    ],
)
def test_other_ids_are_refused_naming_the_id(scope_id: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        connection.account_from_scope_id(scope_id, CHANNEL_ID)
    assert info.value.field == "id" and words in info.value.reason


# -- connect and disconnect --------------------------------------------------------------------------


@pytest.fixture
def client(emulator: EmulatorServer) -> ChatApiClient:
    return ChatApiClient(emulator.url, max_requests_per_second=0, retry=1, read_timeout=2)


def test_connect_returns_state_from_kommos_answer(client: ChatApiClient, emulator: EmulatorServer) -> None:
    state = connection.connect(client, valid(base_url=emulator.url, is_time_window_disabled=None))
    kept = stored(emulator, CHANNEL_ID, ACCOUNT_ID)
    assert state == {
        "scope_id": kept.scope_id,
        "channel_id": CHANNEL_ID,
        "account_id": ACCOUNT_ID,
        "title": "Support bot",
        "hook_api_version": "v2",
        "is_time_window_disabled": False,
        "base_url": emulator.url,
        "reconnect_triggers": ["2026-11-25"],
        "secret_fingerprint": secret_fingerprint(CHANNEL_SECRET),
    }
    assert CHANNEL_SECRET not in repr(state)


def test_a_failed_connect_is_one_sentence_without_the_secret(
    client: ChatApiClient, emulator: EmulatorServer
) -> None:
    wrong = "0" * 40
    with pytest.raises(ConnectionFailedError) as info:
        connection.connect(client, valid(base_url=emulator.url, channel_secret=wrong))
    message = str(info.value)
    assert message.startswith(f"connecting account {ACCOUNT_ID} to channel {CHANNEL_ID} failed: ")
    assert "signature" in message and wrong not in message and "\n" not in message
    assert info.value.__cause__ is None and emulator.backend.connections() == []


def test_disconnect_counts_an_unknown_channel_as_gone_and_raises_on_other_failures(
    client: ChatApiClient, emulator: EmulatorServer
) -> None:
    connection.connect(client, valid(base_url=emulator.url))
    connection.disconnect(client, ChannelCredentials(CHANNEL_ID, CHANNEL_SECRET), ACCOUNT_ID)
    assert not stored(emulator, CHANNEL_ID, ACCOUNT_ID).connected
    connection.disconnect(client, ChannelCredentials(OTHER_CHANNEL, CHANNEL_SECRET), ACCOUNT_ID)  # 404
    emulator.faults.script(["500"] * 5)
    with pytest.raises(ConnectionFailedError, match="so it stays in state"):
        connection.disconnect(client, ChannelCredentials(CHANNEL_ID, CHANNEL_SECRET), ACCOUNT_ID)
