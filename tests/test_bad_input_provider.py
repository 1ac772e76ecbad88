"""Bad input to both front-ends, table-driven: the dynamic resource's check and stack config, and the
plugin's resource check and provider configuration.

Every case asserts that the message names the field or key, carries no secret, and that nothing
reached the emulator. CLI arguments and webhook verification have their corpus in
``test_bad_input_cli.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from rest_helpers import ACME_TOKEN

from kommo_provider.configuration import PROVIDER
from kommo_provider.connection import CONNECTION, DYNAMIC_CONNECTION
from kommo_provider.emulator import EmulatorServer
from kommo_provider.emulator.rest import mint_token
from kommo_provider.exceptions import KommoProviderError, PluginError
from kommo_provider.model import Kind
from kommo_provider.plugin import config
from kommo_provider.plugin.account import Source, Webhook
from kommo_provider.plugin.connection import ChatChannelConnection
from kommo_provider.plugin.resources import ModelResource
from kommo_provider.plugin.wire import Secret
from kommo_provider.provider import KommoChatChannelConnectionProvider

NL = "\n"
SECRET_LIKE = "5f4e3d2c1b0a99887766554433221100ffeeddcc"
"""A secret-looking value given in the wrong place: it must not be echoed either."""

BAD_IDS: list[Any] = [
    f"{ACCOUNT_ID}{NL}",  # $(cat file) or a YAML block scalar
    f"{ACCOUNT_ID}\r\n",
    f" {ACCOUNT_ID}",
    f"{ACCOUNT_ID} ",
    ACCOUNT_ID.replace("-", ""),
    ACCOUNT_ID[:-1],
    f"{{{ACCOUNT_ID}}}",
    "not-a-uuid",
    "",
    42,
    ["x"],
]
BAD_URLS = [
    "http://[::1",
    "http://[zz::1]:1",
    "http\uff1a//127.0.0.1:8765",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:abc",
    "http://amojo.kommo.com",
    "ftp://amojo.kommo.com",
    "https://amojo.kommo.com/v2",
    "https://user:pw@amojo.kommo.com",
    "amojo",
]
BAD_NUMBERS: list[tuple[str, str]] = [
    ("maxRetries", "nan"),
    ("maxRetries", "inf"),
    ("maxRetries", "2.7"),
    ("maxRetries", "-1"),
    ("maxRetries", "21"),
    ("maxRetries", "many"),
    ("readTimeout", "-1"),
    ("readTimeout", "nan"),
    ("readTimeout", "inf"),
    ("readTimeout", "0"),
    ("readTimeout", "601"),
    ("connectTimeout", "inf"),
    ("connectTimeout", "0"),
    ("connectTimeout", "-3"),
    ("maxRequestsPerSecond", "-5"),
    ("maxRequestsPerSecond", "nan"),
    ("maxRequestsPerSecond", "inf"),
    ("maxRequestsPerSecond", "1e9"),
]


def no_secret(text: str) -> None:
    assert CHANNEL_SECRET not in text and SECRET_LIKE not in text, "a secret was echoed"


# -- the dynamic resource ----------------------------------------------------------------------------


def dynamic(raw_config: dict[str, str] | None = None) -> KommoChatChannelConnectionProvider:
    provider = KommoChatChannelConnectionProvider()
    config = {"kommo:maxRequestsPerSecond": "0", **(raw_config or {})}
    provider.configure(ConfigureRequest(Config(raw_config=config, project_name="kommo-provider")))
    return provider


def dynamic_inputs(emulator: EmulatorServer, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "channel_id": CHANNEL_ID,
        "channel_secret": CHANNEL_SECRET,
        "account_id": ACCOUNT_ID,
        "base_url": emulator.url,
    }
    props.update(overrides)
    return props


DYNAMIC_CASES: list[tuple[str, Any]] = [
    *(("account_id", v) for v in BAD_IDS),
    *(("channel_id", v) for v in BAD_IDS[:6]),
    *(("base_url", v) for v in BAD_URLS),
    ("channel_secret", f"{CHANNEL_SECRET}{NL}"),
    ("channel_secret", f" {CHANNEL_SECRET}"),
    ("channel_secret", 1234),
    ("title", ""),
    ("title", "   "),
    ("title", 7),
    ("hook_api_version", "v3"),
    ("hook_api_version", "V2"),
    ("hook_api_version", f"v2{NL}"),
    ("is_time_window_disabled", "true"),
    ("is_time_window_disabled", 1),
    ("account_id", SECRET_LIKE),
]


@pytest.mark.parametrize(("field", "value"), DYNAMIC_CASES)
def test_dynamic_check_names_the_field(emulator: EmulatorServer, field: str, value: Any) -> None:
    failures = dynamic().check({}, dynamic_inputs(emulator, **{field: value})).failures
    assert [f.property for f in failures] == [field]
    no_secret(failures[0].reason)
    assert emulator.backend.requests() == []


@pytest.mark.parametrize(("key", "value"), BAD_NUMBERS)
def test_dynamic_stack_config_is_refused_naming_the_key_and_range(
    emulator: EmulatorServer, key: str, value: str
) -> None:
    provider = dynamic({f"kommo:{key}": value})
    failures = provider.check({}, dynamic_inputs(emulator)).failures
    [failure] = failures
    assert failure.property == "" and failure.reason.startswith(f"stack config kommo:{key} must be ")
    assert "from" in failure.reason or "greater than" in failure.reason  # the allowed range
    assert f"got {value!r}" in failure.reason
    with pytest.raises(KommoProviderError, match=f"kommo:{key}"):  # what runs without check: delete
        provider.delete("id", dynamic_inputs(emulator))
    assert emulator.backend.requests() == []


def test_zero_turns_pacing_off_and_is_allowed(emulator: EmulatorServer) -> None:
    assert dynamic({"kommo:maxRequestsPerSecond": "0"}).check({}, dynamic_inputs(emulator)).failures == []


# -- the plugin --------------------------------------------------------------------------------------


PLUGIN_RESOURCE_CASES: list[tuple[str, Any]] = [
    *(("accountId", v) for v in BAD_IDS),
    ("accountId", None),
    ("accountId", SECRET_LIKE),
    ("title", ""),
    ("title", 3),
    ("hookApiVersion", "v3"),
    ("hookApiVersion", "2"),
    ("isTimeWindowDisabled", "false"),
    ("reconnectTriggers", "2026-11-25"),
    ("reconnectTriggers", [1, 2]),
    ("reconnectTriggers", {"at": "now"}),
    ("channelId", CHANNEL_ID),  # belongs to the provider
    ("channelSecret", SECRET_LIKE),
    ("baseUrl", "kommo"),
    ("acountId", ACCOUNT_ID),  # a typo
]


@pytest.mark.parametrize(("prop", "value"), PLUGIN_RESOURCE_CASES)
def test_plugin_check_names_the_property(emulator: EmulatorServer, prop: str, value: Any) -> None:
    news: dict[str, Any] = {"accountId": ACCOUNT_ID, prop: value}
    if value is None:
        del news[prop]
    _, failures = ChatChannelConnection().check(None, news)
    assert [p for p, _ in failures] == [prop]
    assert failures[0][1].startswith(prop)
    no_secret(failures[0][1])
    assert emulator.backend.requests() == []


PLUGIN_CONFIG_CASES: list[tuple[str, Any]] = [
    *(("channelId", v) for v in BAD_IDS),
    ("channelId", None),
    ("channelSecret", None),
    ("channelSecret", ""),
    ("channelSecret", Secret(f"{CHANNEL_SECRET}{NL}")),
    ("channelSecret", Secret(4)),
    *(("baseUrl", v) for v in BAD_URLS),
    *((k, v) for k, v in BAD_NUMBERS),
    ("maxRetries", 2.5),
    ("maxRetries", True),
    ("readTimeout", float("nan")),
]


@pytest.mark.parametrize(("key", "value"), PLUGIN_CONFIG_CASES)
def test_plugin_config_names_the_key(emulator: EmulatorServer, key: str, value: Any) -> None:
    news: dict[str, Any] = {"channelId": CHANNEL_ID, "channelSecret": Secret(CHANNEL_SECRET), key: value}
    if value is None:
        del news[key]
    _, failures = config.check_config(news)
    assert [p for p, _ in failures] == [key]
    assert failures[0][1].startswith(key)
    if key in {"maxRetries", "readTimeout", "connectTimeout", "maxRequestsPerSecond"}:
        assert f"stack config kommo:{key}" in failures[0][1]
    no_secret(failures[0][1])
    with pytest.raises(PluginError):
        config.configure(news)
    assert emulator.backend.requests() == []


# -- values that must never come back: secrets, credentials, megabytes -------------------------------

PROGRAM_SECRET = "my-s3cret"
"""What a program marked secret (``fn::secret``, ``pulumi.secret()``): never in a message."""
MEGABYTE = "x" * 1_000_000
CREDENTIALS_URL = "https://admin:pa55w0rd@amojo.kommo.com/v2"
MAX_MESSAGE = 400
"""A few hundred characters: what a person reads in a preview's failure."""


def quiet(text: str) -> None:
    """Nothing to hide is in ``text``, and it is short enough to read."""
    no_secret(text)
    assert PROGRAM_SECRET not in text and "pa55w0rd" not in text and "x" * 100 not in text, text[:200]
    assert len(text) <= MAX_MESSAGE, f"{len(text)} characters"


def _plugin_values(prop: str) -> list[Any]:
    wrong = {"isTimeWindowDisabled": "not-a-bool", "reconnectTriggers": [PROGRAM_SECRET, 1]}
    return [Secret(wrong.get(prop, PROGRAM_SECRET)), MEGABYTE, CREDENTIALS_URL, Secret(CREDENTIALS_URL)]


PLUGIN_FIELDS = [f.schema_name for f in CONNECTION.inputs]
CONFIG_FIELDS = [f.schema_name for f in PROVIDER.fields if not f.secret]


@pytest.mark.parametrize("prop", PLUGIN_FIELDS)
def test_plugin_check_never_shows_a_secret_credentials_or_a_megabyte(
    emulator: EmulatorServer, prop: str
) -> None:
    for value in _plugin_values(prop):
        news: dict[str, Any] = {"accountId": ACCOUNT_ID, prop: value}
        _, failures = ChatChannelConnection().check(None, news)
        for _, reason in failures:
            quiet(reason)
    assert emulator.backend.requests() == []


@pytest.mark.parametrize("key", CONFIG_FIELDS)
def test_plugin_config_never_shows_a_secret_credentials_or_a_megabyte(
    emulator: EmulatorServer, key: str
) -> None:
    for value in [
        Secret(f"{PROGRAM_SECRET} !"),
        Secret(-7),
        MEGABYTE,
        CREDENTIALS_URL,
        Secret(CREDENTIALS_URL),
    ]:
        news: dict[str, Any] = {
            "channelId": CHANNEL_ID,
            "channelSecret": Secret(CHANNEL_SECRET),
            "accountDomain": "acme",
            "accessToken": Secret(ACME_TOKEN),
            key: value,
        }
        _, failures = config.check_config(news)
        assert failures, f"{key}={str(value)[:40]} was accepted"
        for _, reason in failures:
            quiet(reason)
        with pytest.raises(PluginError) as info:
            config.configure(news)
        quiet(str(info.value))
    assert emulator.backend.requests() == []


@pytest.mark.parametrize("field", [f.name for f in DYNAMIC_CONNECTION.inputs if f.kind is not Kind.ANY])
def test_dynamic_check_never_shows_what_the_program_made_secret(emulator: EmulatorServer, field: str) -> None:
    """The engine hands the dynamic provider secrets in plain text; the resource names them alongside."""
    for value in [PROGRAM_SECRET, f"{PROGRAM_SECRET}\n", 12345, CREDENTIALS_URL]:
        props = dynamic_inputs(emulator, **{field: value}, __secret_inputs=[field])
        for failure in dynamic().check({}, props).failures:
            quiet(failure.reason)
            assert "12345" not in failure.reason
        for failure in dynamic().check({}, dynamic_inputs(emulator, **{field: MEGABYTE})).failures:
            quiet(failure.reason)
    assert emulator.backend.requests() == []


def test_a_long_import_id_is_cut_in_the_message() -> None:
    connection = ChatChannelConnection()
    settings = config.configure({"channelId": CHANNEL_ID, "channelSecret": Secret(CHANNEL_SECRET)})
    with pytest.raises(PluginError) as info:
        connection.import_(settings, "y" * 10_000)
    assert len(str(info.value)) <= 2 * MAX_MESSAGE and "y" * 100 not in str(info.value)


# -- Kommo's REST API v4: the provider's account group, Source and Webhook ----------------------------

EXPIRED_TOKEN = mint_token(
    account_id=1, integration_id="x", user_id=1, issued_at=1, expires_at=1_700_000_000, token_id="old"
)
REST_CONFIG_CASES: list[tuple[str, Any]] = [
    ("accountDomain", "https://acme.kommo.com"),
    ("accountDomain", "acme.kommo.com/api"),
    ("accountDomain", "www"),
    ("accountDomain", "a_b"),
    ("accountDomain", "acme.example.org"),
    ("accountDomain", "acme kommo"),
    ("accountDomain", "acme\u200b"),
    ("accountDomain", 5),
    ("accessToken", Secret("")),
    ("accessToken", Secret(f"Bearer {ACME_TOKEN}")),
    ("accessToken", Secret("not-a-jwt")),
    ("accessToken", Secret(f"{ACME_TOKEN}\n")),
    ("accessToken", Secret(EXPIRED_TOKEN)),
    ("accessToken", Secret("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig")),  # no exp
    ("accessToken", Secret(42)),
    ("apiBaseUrl", "http://api.example.com"),
    ("apiBaseUrl", "ftp://127.0.0.1"),
    ("apiBaseUrl", "https://u:p@127.0.0.1"),
    ("apiBaseUrl", "kommo"),
]


@pytest.mark.parametrize(("key", "value"), REST_CONFIG_CASES)
def test_rest_config_names_the_key_and_never_the_token(
    emulator: EmulatorServer, key: str, value: Any
) -> None:
    news: dict[str, Any] = {"accountDomain": "acme", "accessToken": Secret(ACME_TOKEN), key: value}
    _, failures = config.check_config(news)
    assert [p for p, _ in failures] == [key]
    assert failures[0][1].startswith(key)
    for token in (ACME_TOKEN, EXPIRED_TOKEN, "not-a-jwt"):
        assert token not in failures[0][1]
    quiet(failures[0][1])
    assert emulator.backend.requests() == []


SOURCE_CASES: list[tuple[str, Any]] = [
    ("name", ""),
    ("name", 5),
    ("name", "line\nbreak"),
    ("name", "x" * 256),
    ("externalId", ""),
    ("externalId", "x" * 41),
    ("externalId", "héllo"),
    ("externalId", "tab\there"),
    ("externalId", 5),
    ("externalId", None),
    ("pipelineId", "1"),
    ("pipelineId", 0),
    ("pipelineId", -3),
    ("pipelineId", 1.5),
    ("pipelineId", True),
    ("default", "yes"),
    ("originCode", "12345"),
    ("originCode", "x" * 21),
    ("originCode", "a b"),
    ("services", "whatsapp"),
    ("services", [1]),
    ("services", [{"type": "telegram"}]),
    ("services", [{"kind": "whatsapp"}]),
    ("services", [{"type": "whatsapp", "params": {"waba": "yes"}}]),
    ("sourceId", 7),  # an output
    ("acessToken", ACME_TOKEN),  # a typo, with a token in it: named, never shown
]
WEBHOOK_CASES: list[tuple[str, Any]] = [
    ("destination", "http://bot.example.com/kommo"),
    ("destination", "ftp://bot.example.com"),
    ("destination", "https://user:pw@bot.example.com"),
    ("destination", ""),
    ("destination", 5),
    ("destination", "https://"),
    ("destination", "https://bot.example.com/" + "x" * 3000),
    ("destination", None),
    ("settings", []),
    ("settings", "add_lead"),
    ("settings", ["nope"]),
    ("settings", [1]),
    ("settings", ["add_lead", "add_lead"]),
    ("settings", None),
    ("sort", -1),
    ("sort", "5"),
    ("sort", 1.5),
]


@pytest.mark.parametrize(("resource", "prop", "value"), [
    *(("source", p, v) for p, v in SOURCE_CASES),
    *(("webhook", p, v) for p, v in WEBHOOK_CASES),
])  # fmt: skip
def test_rest_resource_check_names_the_property(
    emulator: EmulatorServer, resource: str, prop: str, value: Any
) -> None:
    handlers: dict[str, tuple[ModelResource, dict[str, Any]]] = {
        "source": (Source(), {"name": "Chats", "externalId": "chats"}),
        "webhook": (Webhook(), {"destination": "https://bot.example.com/hook", "settings": ["add_lead"]}),
    }
    handler, valid = handlers[resource]
    news = {**valid, prop: value}
    if value is None:
        del news[prop]
    settings = config.configure({"accountDomain": "acme", "accessToken": Secret(ACME_TOKEN)})
    _, failures = handler.check(settings, news)
    assert [p for p, _ in failures] == [prop]
    assert failures[0][1].startswith(prop)
    quiet(failures[0][1])
    assert ACME_TOKEN not in failures[0][1]
    assert emulator.backend.requests() == []
