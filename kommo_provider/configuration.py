"""The ``kommo`` provider's configuration, declared once: the chat channel, and how to talk to Kommo.

The same table is the provider's ``inputProperties`` and the default provider's stack config keys
(``kommo:channelId``...) in ``schema.json``, the plugin's CheckConfig and DiffConfig, and the dynamic
resource's transport settings. Fields come in groups: a resource needs its group complete and fails at
preview, naming what to set, when it is not; a stack that uses only one group leaves the other out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from .connection import BASE_URL, CHANNEL_ID, CHANNEL_SECRET
from .exceptions import ConfigurationError
from .hosts import resolve_account_domain, resolve_base_url
from .model import GOT, Change, Field, Kind, Model, Plan, describe
from .settings import SETTING_FIELDS
from .tokens import WHERE_FROM as TOKEN_WHERE_FROM
from .tokens import token_expired, token_problem, token_text_problem
from .validation import refused_by

CHAT: Final = "chat"
"""The group the Chat API (amojo) needs: a channel id and its secret, and the host."""
REST: Final = "rest"
"""The group the REST API v4 needs: an account for each object, and a token for each account."""


def _api_base_url(value: str) -> str:
    return resolve_base_url(value, regions={})


def _access_tokens(value: Mapping[str, Any]) -> dict[str, Any]:
    """The map with each key as its account's canonical host (``acme`` is ``acme.kommo.com``)."""
    return {resolve_account_domain(str(host)): token for host, token in value.items()}


def access_tokens_problem(value: Mapping[str, Any]) -> str | None:
    """Each key an account's host, each token non-empty text without whitespace, none expired. A key is
    shown (withheld when shaped like a token: a key and a token swapped); a token never is."""
    seen: set[str] = set()
    for host, token in value.items():
        try:
            canonical = resolve_account_domain(str(host))
        except ConfigurationError:
            shown = describe(host)
            return f"has a key that is not an account's host, {shown}: use hosts like 'example.kommo.com'"
        if canonical in seen:
            return f"names account {canonical} twice"
        seen.add(canonical)
        problem = (
            (token_text_problem(token) or token_expired(token)) if isinstance(token, str) else "is not text"
        )
        if problem:
            return f"has a token for {canonical} that {problem}"
    return None


def token_command_problem(value: list[Any]) -> str | None:
    if not value:
        return "must name a program to run, such as ['/usr/local/bin/kommo-token'], got an empty list"
    if not value[0].strip():
        return "must start with the program to run, got an empty first element"
    if len(value) > 100 or sum(len(part) for part in value) > 32_768:
        return f"must be at most 100 arguments and 32768 characters, got {len(value)} arguments"
    if any("\0" in part for part in value):
        return "must not contain NUL characters"
    return None


def token_command_timeout_problem(value: Any) -> str | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return f"must be a number of seconds from 1 to 600, got {GOT}"
    return None if 1 <= seconds <= 600 else f"must be a number of seconds from 1 to 600, got {GOT}"


ACCOUNT_DOMAIN: Final = Field(
    "account_domain",
    Kind.STRING,
    "The default Kommo account: the host of the account that an object or a lookup of the REST API v4 "
    "without its own `account` belongs to, such as `example.kommo.com` or "
    "`example.amocrm.ru` (a bare `example` means `example.kommo.com`). Changing it to another account "
    "replaces everything made through the provider; a fleet of accounts gives each object its `account` "
    "instead.",
    change=Change.REPLACE,
    check=refused_by(resolve_account_domain),
    canonical=resolve_account_domain,
    config_key="kommo:accountDomain",
    where_from="the account's address in Kommo, such as example.kommo.com",
)
ACCESS_TOKEN: Final = Field(
    "access_token",
    Kind.STRING,
    "The access token of the default account (`accountDomain`): a long-lived token of a private "
    "integration (a JWT, valid from one day to five years). Always stored as a secret. The provider reads "
    "its expiry offline: an expired token fails at preview, one that expires within 14 days gives a "
    "warning. For many accounts, use `accessTokens` or `tokenCommand`.",
    secret=True,
    check=token_problem,
    config_key="kommo:accessToken",
    where_from=TOKEN_WHERE_FROM,
)
ACCESS_TOKENS: Final = Field(
    "access_tokens",
    Kind.STRING_MAP,
    "Access tokens by account host (`example.kommo.com`, or a bare `example`): for long-lived tokens and "
    "small fleets. Always stored as a secret. A token here is used as it is until it is changed: for "
    "tokens that expire every 24 hours, use `tokenCommand`.",
    secret=True,
    check=access_tokens_problem,
    canonical=_access_tokens,
    config_key="kommo:accessTokens",
    text_in_config=True,
)
TOKEN_COMMAND: Final = Field(
    "token_command",
    Kind.STRING_LIST,
    "A program and its arguments, run without a shell whenever an account's token is needed, with the "
    "account's host in the environment variable `KOMMO_ACCOUNT`. It prints the token, or JSON "
    '`{"accessToken": "...", "expiresAt": <unix seconds or RFC 3339>}`. Each token is kept in the '
    "plugin's process until shortly before it expires, and fetched again once after Kommo refuses it. "
    "This is how a vendor hands over the tokens its own backend keeps and refreshes; the plugin never "
    "refreshes a token itself. Used for every account that `accessTokens` (and `accessToken`) do not "
    "cover.",
    check=token_command_problem,
    config_key="kommo:tokenCommand",
    text_in_config=True,
)
TOKEN_COMMAND_TIMEOUT: Final = Field(
    "token_command_timeout",
    Kind.NUMBER,
    "Seconds `tokenCommand` may take before the call that needs the token fails (default 30; 1 to 600).",
    check=token_command_timeout_problem,
    config_key="kommo:tokenCommandTimeout",
    text_in_config=True,
)
API_BASE_URL: Final = Field(
    "api_base_url",
    Kind.STRING,
    "Where the REST API v4 of every account is served instead of `https://<account>`: an https URL, or "
    "plain http to 127.0.0.1/localhost, such as the kommo-chat emulator (which tells accounts apart by "
    "their tokens). It says where to reach the accounts, not which objects they hold: changing it "
    "replaces nothing.",
    check=refused_by(_api_base_url),
    canonical=_api_base_url,
    config_key="kommo:apiBaseUrl",
)


@dataclass(frozen=True)
class Group:
    """Fields a kind of resource needs, and the words for what it is."""

    name: str
    fields: tuple[str, ...]
    what: str


GROUPS: Final = {
    CHAT: Group(CHAT, ("channel_id", "channel_secret", "base_url"), "the Chat API (connections)"),
    REST: Group(
        REST,
        (
            "account_domain",
            "access_token",
            "access_tokens",
            "token_command",
            "token_command_timeout",
            "api_base_url",
        ),
        "Kommo's REST API v4 (the account's objects and lookups)",
    ),
}

PROVIDER: Final = Model(
    "pulumi:providers:kommo",
    "The Kommo provider: one custom chat channel (its id and secret) at one Chat API host, and the Kommo "
    "accounts whose objects the REST API v4 manages, with where each account's token comes from. One "
    "provider serves every account: each object names its `account` (or takes the default, "
    "`accountDomain`), and its token comes from `accessTokens`, `accessToken` or `tokenCommand` when a "
    "call needs it. Either half may be left out: a resource that needs what the provider lacks fails at "
    "preview, naming what to set. The default provider reads `kommo:channelId`, `kommo:channelSecret`, "
    "`kommo:baseUrl`, `kommo:accountDomain`, `kommo:accessToken`, `kommo:accessTokens`, "
    "`kommo:tokenCommand` and `kommo:apiBaseUrl` from stack config.\n\n"
    "A different `channelId` replaces the provider and everything made through it. A different `baseUrl` "
    "replaces each connection (disconnecting it at the old host first); a rotated `channelSecret` "
    "reconnects them in place, and later disconnects are signed with the new secret. Tokens and "
    "`apiBaseUrl` change in place.",
    (
        replace(CHANNEL_ID, required=False, stable=False),
        replace(
            CHANNEL_SECRET,
            required=False,
            description=CHANNEL_SECRET.description
            + " Set it with `pulumi config set --secret kommo:channelSecret` (it prompts, or reads "
            "standard input).",
        ),
        replace(
            BASE_URL,
            stable=False,
            change=Change.UPDATE,
            description=BASE_URL.description
            + " Changing it replaces each connection made through the provider.",
        ),
        ACCOUNT_DOMAIN,
        ACCESS_TOKEN,
        ACCESS_TOKENS,
        TOKEN_COMMAND,
        TOKEN_COMMAND_TIMEOUT,
        API_BASE_URL,
        *SETTING_FIELDS,
    ),
)


def group_of(field: Field) -> str | None:
    """The group a configuration field belongs to, if any."""
    return next((group.name for group in GROUPS.values() if field.name in group.fields), None)


def provider_plan(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Plan:
    """What a change of the provider's configuration does (core names, canonical values).

    A provider is replaced only when what it was made for changes: another channel (its connections
    need the old channel's secret to be disconnected, which only the old provider holds), or another
    default account. Adding either to a provider, or taking the default account away (each object then
    names its own), replaces nothing; nor does anything else: a new host replaces each connection
    through the connection's own plan, and tokens and ``apiBaseUrl`` say how to reach the same objects.
    The provider is never deleted before its replacement exists: a connection left pending a
    replacement must still find its provider.
    """
    plan = PROVIDER.plan(olds, news)

    def replaces(name: str) -> bool:
        old, new = olds.get(name), news.get(name)
        if name == "account_domain":
            return old is not None and new is not None
        return old is not None

    kept = tuple(name for name in plan.replaces if replaces(name))
    moved = tuple(name for name in plan.replaces if name not in kept)
    return Plan(kept, plan.updates + moved, delete_before_replace=False)
