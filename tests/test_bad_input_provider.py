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
from kommo_provider.plugin.resources import PluginResource, Props
from kommo_provider.plugin.wire import Secret
from kommo_provider.provider import KommoChatChannelConnectionProvider
from kommo_provider.resources import REGISTRY

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


CONNECTION_TYPE = "kommo:index:ChatChannelConnection"
URN = "urn:pulumi:test::bad-input::{typ}::a"


def served(token: str) -> PluginResource:
    """The plugin's handling of one resource type, in this process."""
    resource = REGISTRY.resource(token)
    assert resource is not None, token
    return PluginResource(resource)


def plugin_check(
    token: str, settings: config.ProviderConfig | None, news: dict[str, Any]
) -> list[tuple[str, str]]:
    """The failures the plugin's Check gives for ``news``."""
    handler = served(token)
    _, failures = handler.check(settings, URN.format(typ=token), Props.decode(handler.model, news))
    return failures


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
    failures = plugin_check(CONNECTION_TYPE, None, news)
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
        failures = plugin_check(CONNECTION_TYPE, None, news)
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
    settings = config.configure({"channelId": CHANNEL_ID, "channelSecret": Secret(CHANNEL_SECRET)})
    with pytest.raises(PluginError) as info:
        served(CONNECTION_TYPE).import_(settings, URN.format(typ=CONNECTION_TYPE), "y" * 10_000)
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
    ("apiBaseUrl", "http://127.0.0.1:8765/\n"),
    ("accessTokens", "not a map"),
    ("accessTokens", ["acme"]),
    ("accessTokens", Secret({"acme": 5})),
    ("accessTokens", Secret({"https://acme.kommo.com": ACME_TOKEN})),
    ("accessTokens", Secret({ACME_TOKEN: "acme"})),  # key and token swapped: neither is shown
    ("accessTokens", Secret({"acme": ""})),
    ("accessTokens", Secret({"acme": f"{ACME_TOKEN} "})),
    ("accessTokens", Secret({"acme": f"Bearer {ACME_TOKEN}"})),
    ("accessTokens", Secret({"acme": EXPIRED_TOKEN})),
    ("accessTokens", Secret({"acme": ACME_TOKEN, "acme.kommo.com": ACME_TOKEN})),
    ("tokenCommand", []),
    ("tokenCommand", [""]),
    ("tokenCommand", "kommo-token --account"),  # stack config text that is not a JSON list
    ("tokenCommand", [1]),
    ("tokenCommand", ["x"] * 101),
    ("tokenCommandTimeout", 0),
    ("tokenCommandTimeout", 601),
    ("tokenCommandTimeout", "soon"),
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


BAD_ACCOUNTS: list[Any] = [
    "www",
    "https://acme.kommo.com",
    "acme.example.org",
    "acme.kommo.com/x",
    "",
    5,
    "a b",
]
SOURCE_CASES: list[tuple[str, Any]] = [
    *(("account", v) for v in BAD_ACCOUNTS),
    ("pipelineId", 2**63),
    ("pipelineId", 1e300),
    ("services", [{"type": "whatsapp", "pages": [{"name": "x" * 256, "id": "1", "link": "+1"}]}]),
    ("services", [{"type": "whatsapp", "pages": [{"name": "line\nbreak", "id": "1", "link": "+1"}]}]),
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
    *(("account", v) for v in BAD_ACCOUNTS),
    ("destination", "https://bot.example.com/hook#events"),
    ("destination", "https://bot.example.com:0/hook"),
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
    handlers: dict[str, tuple[str, dict[str, Any]]] = {
        "source": ("kommo:index:Source", {"name": "Chats", "externalId": "chats"}),
        "webhook": (
            "kommo:index:Webhook",
            {"destination": "https://bot.example.com/hook", "settings": ["add_lead"]},
        ),
    }
    token, valid = handlers[resource]
    news = {**valid, prop: value}
    if value is None:
        del news[prop]
    settings = config.configure({"accountDomain": "acme", "accessToken": Secret(ACME_TOKEN)})
    failures = plugin_check(token, settings, news)
    assert [p for p, _ in failures] == [prop]
    assert failures[0][1].startswith(prop)
    quiet(failures[0][1])
    assert ACME_TOKEN not in failures[0][1]
    assert emulator.backend.requests() == []


# -- a value the program made secret, anywhere in any REST resource, never reaches a message ----------

REST_SECRETS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "kommo:index:Source": (
        {"name": "Chats", "externalId": "chats"},
        {
            "account": f"{PROGRAM_SECRET}.example.org",
            "name": f"{PROGRAM_SECRET}\n",
            "externalId": f"{PROGRAM_SECRET}é",
            "originCode": PROGRAM_SECRET + "-" * 30,
            "services": [{"type": PROGRAM_SECRET}],
            "default": PROGRAM_SECRET,
        },
    ),
    "kommo:index:Webhook": (
        {"destination": "https://bot.example.com/hook", "settings": ["add_lead"]},
        {
            "account": f"www.{PROGRAM_SECRET}",
            "destination": f"https://bot.example.com/{PROGRAM_SECRET}#x",
            "settings": ["add_lead", PROGRAM_SECRET],
            "sort": PROGRAM_SECRET,
        },
    ),
    "kommo:index:ChatTemplate": (
        {"name": "Hi", "content": "Hello", "externalId": "hi"},
        {
            "name": f"{PROGRAM_SECRET}\x00",
            "content": PROGRAM_SECRET * 1000,
            "externalId": f"{PROGRAM_SECRET}é",
            "type": PROGRAM_SECRET,
            "buttons": [{"type": "inline", "text": "Go", "url": f"https://{PROGRAM_SECRET}.example.com"}],
            "wabaCategory": PROGRAM_SECRET,
            "wabaExamples": {"{{1}}": [PROGRAM_SECRET]},
        },
    ),
}


@pytest.mark.parametrize(
    ("token", "prop"), [(token, prop) for token, (_, bad) in REST_SECRETS.items() for prop in bad]
)
def test_a_secret_rest_value_is_never_shown_nested_or_not(
    emulator: EmulatorServer, token: str, prop: str
) -> None:
    valid, bad = REST_SECRETS[token]
    settings = config.configure({"accountDomain": "acme", "accessToken": Secret(ACME_TOKEN)})
    failures = plugin_check(token, settings, {**valid, prop: Secret(bad[prop])})
    assert [p for p, _ in failures] == [prop], failures
    quiet(failures[0][1])
    assert emulator.backend.requests() == []
