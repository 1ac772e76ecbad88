"""What a chat-channel connection is: its fields, declared once, and connect, disconnect and its id.

A connection is one Kommo account (its amojo_id) connected to one custom chat channel at one Chat API
host. The tables below are the only description of its fields: the plugin's schema, validation, diff
planning, the state and preview shapes, and both front-ends' names come from them (see
:mod:`kommo_provider.model`). The Python dynamic resource (:mod:`kommo_provider.provider`) takes the
channel's fields as its own arguments; the ``kommo`` plugin (:mod:`kommo_provider.plugin`) takes them
from the provider's configuration and answers them as outputs. No Pulumi types here.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from .exceptions import ChannelNotFoundError, ConfigurationError, ConnectionFailedError, KommoError
from .hosts import DEFAULT_BASE_URL, resolve_base_url
from .model import GOT, Change, Failure, Field, Kind, Model, Plan
from .payloads import DEFAULT_HOOK_API_VERSION, ChannelCredentials
from .validation import (
    UUID_EXAMPLE,
    WHERE_FROM,
    base_url_problem,
    canonical_uuid,
    hook_api_version_problem,
    secret_problem,
    title_problem,
    triggers_problem,
    uuid_problem,
)

if TYPE_CHECKING:  # the client pulls in requests; the plugin imports it on first connect
    from .client import ChatApiClient

__all__ = [
    "CHANNEL",
    "CONNECTION",
    "DYNAMIC_CONNECTION",
    "account_from_scope_id",
    "connect",
    "disconnect",
    "plan_change",
    "secret_fingerprint",
    "validate",
]

log = logging.getLogger("kommo_provider")

HOST_DESCRIPTION: Final = (
    "Where the Chat API lives: `kommo` (default, https://amojo.kommo.com), `amocrm.ru`, `amocrm.com`, "
    "or an https URL. Plain http is accepted only for 127.0.0.1/localhost, such as the kommo-chat emulator."
)


def _uuid(name: str, description: str, config_key: str, **more: Any) -> Field:
    """One of the two UUIDs that name a connection: required, checked, kept in lower case; a new one
    is another connection."""
    return Field(
        name,
        Kind.STRING,
        description,
        required=True,
        change=Change.REPLACE,
        check=uuid_problem,
        canonical=canonical_uuid,
        config_key=config_key,
        where_from=WHERE_FROM[name],
        identity=True,
        stable=True,
        **more,
    )


# -- the channel: per resource in the dynamic front-end, per provider in the plugin ---------------------

CHANNEL_ID: Final = _uuid(
    "channel_id",
    "The channel UUID Kommo support issued when the custom chat channel was registered.",
    "kommo:channelId",
)
CHANNEL_SECRET: Final = Field(
    "channel_secret",
    Kind.STRING,
    "The channel secret Kommo support issued with the channel id: the HMAC-SHA1 key that signs every "
    "Chat API request. Always stored as a secret, even when given as plain text.",
    required=True,
    secret=True,
    check=secret_problem,
    config_key="kommo:channelSecret",
    where_from=WHERE_FROM["channel_secret"],
)
BASE_URL: Final = Field(
    "base_url",
    Kind.STRING,
    HOST_DESCRIPTION,
    change=Change.REPLACE,
    check=base_url_problem,
    canonical=resolve_base_url,
    absent=DEFAULT_BASE_URL,
    config_key="kommo:baseUrl",
    stable=True,
)
CHANNEL: Final = (CHANNEL_ID, CHANNEL_SECRET, BASE_URL)
"""What identifies the channel and where it lives."""

# -- what a connection sets for one account: sent to connect under Kommo's names ------------------------

ACCOUNT_ID: Final = _uuid(
    "account_id",
    "The Kommo account's amojo_id (a UUID): `GET https://<subdomain>.kommo.com/api/v4/account?with=amojo_id` "
    "with the account's OAuth token, or the `amojoId` of `kommo.getAccount()`. Changing it replaces the "
    "connection.",
    "kommo:accountId",
    api=True,
    output_description="The Kommo account's amojo_id, in lower case.",
)
TITLE: Final = Field(
    "title",
    Kind.STRING,
    "The channel's name in this account, at most 255 characters. Left out: keep what Kommo has (Kommo "
    "defaults to the channel's name).",
    change=Change.KEEP,
    check=title_problem,
    api=True,
    output_description="The channel's name in this account, as Kommo answered it.",
)
HOOK_API_VERSION: Final = Field(
    "hook_api_version",
    Kind.STRING,
    "The webhook format Kommo sends for this account: `v2` (default, the one Kommo documents) or `v1`.",
    check=hook_api_version_problem,
    default=DEFAULT_HOOK_API_VERSION,
    api=True,
    output_description="The webhook format Kommo sends for this account, as Kommo answered it.",
)
IS_TIME_WINDOW_DISABLED: Final = Field(
    "is_time_window_disabled",
    Kind.BOOLEAN,
    "Switch off the channel's reply time window for this account. Left out: keep what Kommo has.",
    change=Change.KEEP,
    api=True,
    output_description="Whether the reply time window is off for this account, as Kommo answered it.",
)
RECONNECT_TRIGGERS: Final = Field(
    "reconnect_triggers",
    Kind.STRING_LIST,
    "Any change to these values connects again without touching anything else: Kommo disables the "
    "channel when the integration is disabled and needs a new connect after each reinstall, so put the "
    "reinstall date here.",
    check=triggers_problem,
    output_description="The values that, when changed, force a fresh connect.",
)
SCOPE_ID: Final = Field(
    "scope_id",
    Kind.STRING,
    "The connection's id in amojo, as Kommo returned it; every message and chat call for this account "
    "needs it. Also the resource's id.",
    output_only=True,
    stable=True,
)
SECRET_FINGERPRINT: Final = Field(
    "secret_fingerprint",
    Kind.STRING,
    "A one-way fingerprint of the channel secret the connection was made with (an HMAC of a fixed text), "
    "so a rotated secret is noticed without keeping the secret on every connection.",
    secret=True,
    output_only=True,
    change=Change.UPDATE,  # a rotated secret reconnects, so later disconnects are signed with it
)
CONNECTION_INPUTS: Final = (ACCOUNT_ID, TITLE, HOOK_API_VERSION, IS_TIME_WINDOW_DISABLED, RECONNECT_TRIGGERS)

CONNECTION: Final = Model(
    "kommo:index:ChatChannelConnection",
    "Connects a Kommo account to the provider's custom chat channel with the signed `connect` call of the "
    "Kommo Chat API, and disconnects it when deleted. The `scopeId` Kommo returns is what every later chat "
    "call (sending a message, creating a chat) needs for this account.\n\n"
    "Creating or updating a connection sends one signed `connect`; a failed connect leaves nothing behind. "
    "`refresh` sends nothing: amojo has no call that reads a connection back. Kommo disables the channel "
    "when the integration is disabled, so bump `reconnectTriggers` after each reinstall to connect again.\n\n"
    "## Import\n\nAn existing connection is imported by its scope_id, shaped `<channelId>_<accountId>` as "
    "amojo returns it:\n\n```sh\n$ pulumi import kommo:index:ChatChannelConnection support "
    "<channelId>_<accountId>\n```\n\nThe scope_id must belong to the provider's channel. Kommo cannot be "
    "asked for a connection's title, hook API version or time-window setting, so the program's values for "
    "those apply at the next `pulumi up`, with one reconnect.",
    (
        *CONNECTION_INPUTS,
        SCOPE_ID,
        CHANNEL_ID.as_output("The channel this account is connected to (the provider's `channelId`)."),
        BASE_URL.as_output(
            "The Chat API host the connection was made at, as a URL (the provider's `baseUrl`)."
        ),
        SECRET_FINGERPRINT,
    ),
)
"""The plugin's ``kommo:index:ChatChannelConnection``: the channel comes from the provider."""

DYNAMIC_CONNECTION: Final = Model(
    "pulumi-python:dynamic/kommo:ChatChannelConnection",
    "A Kommo account connected to a custom chat channel, as a Python dynamic resource.",
    (
        *CHANNEL,
        *CONNECTION_INPUTS[:-1],
        # Any value here, as before the plugin existed: a Python program may pass a date or a dict.
        replace(RECONNECT_TRIGGERS, kind=Kind.ANY, check=None),
        SCOPE_ID,
    ),
)
"""The dynamic resource: the channel's fields are its own arguments; the secret stays in its state."""


def validate(props: Mapping[str, Any], *, secret: tuple[str, ...] = ()) -> list[Failure]:
    """Every problem with a dynamic resource's inputs (channel and settings), at most one per field."""
    return DYNAMIC_CONNECTION.validate(props, secret=secret)


def secret_fingerprint(secret: str) -> str:
    """A one-way, keyed digest that changes when the secret does; it cannot be turned back into the secret.

    State keeps it so a rotated secret can be noticed without keeping the secret itself on every
    connection.
    """
    return hmac.digest(secret.encode("utf-8"), b"kommo-provider secret fingerprint v1", "sha256").hex()[:32]


def plan_change(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Plan:
    """The plan for a connection (core names, with ``secret_fingerprint`` standing for the secret).

    A different channel or account replaces; a different host replaces after deleting the old
    connection first (same channel and account: both hosts may front the same amojo, and a later
    disconnect would undo the new connect); the rest reconnects in place.
    """
    return CONNECTION.plan(olds, news)


# -- operations that reach Kommo ------------------------------------------------------------------


def connect(client: ChatApiClient, props: Mapping[str, Any]) -> dict[str, Any]:
    """Connect the account and return the connection's state, ``scope_id`` always from Kommo's answer.

    ``props`` must be valid (see :func:`validate`) and carry the channel's fields. The state holds the
    plugin's outputs: every field but the secret, which is represented by its :func:`secret_fingerprint`.
    """
    channel = ChannelCredentials(props["channel_id"], props["channel_secret"])
    options = {f.name: props.get(f.name) for f in CONNECTION_INPUTS if f.api and f is not ACCOUNT_ID}
    try:
        result = client.connect(channel, props["account_id"], **options)
    except KommoError as exc:
        raise ConnectionFailedError(
            f"connecting account {props['account_id']} to channel {props['channel_id']} failed: {exc}"
        ) from None
    state: dict[str, Any] = {f.name: props.get(f.name) for f in CONNECTION.outputs}
    state.update({f.name: result.get(f.name, state[f.name]) for f in CONNECTION_INPUTS if f.api})
    state.update(
        scope_id=result.scope_id,
        account_id=canonical_uuid(result.account_id),
        channel_id=props["channel_id"],
        base_url=client.base_url,
        secret_fingerprint=secret_fingerprint(props["channel_secret"]),
    )
    return state


def disconnect(client: ChatApiClient, channel: ChannelCredentials, account_id: str) -> None:
    """Disconnect the account. A channel Kommo no longer knows counts as gone; any other failure raises,
    which keeps the connection in state."""
    try:
        client.disconnect(channel, account_id)
    except ChannelNotFoundError:
        log.warning(
            "channel %s is unknown at %s; treating account %s as disconnected",
            channel.channel_id,
            client.base_url,
            account_id,
        )
    except KommoError as exc:
        raise ConnectionFailedError(
            f"disconnecting account {account_id} failed, so it stays in state: {exc}"
        ) from None


# -- ids -------------------------------------------------------------------------------------------


def account_from_scope_id(scope_id: str, channel_id: str) -> str:
    """The account of a scope_id shaped ``<channel_id>_<account_id>``, as every published example is.

    Kommo documents the scope_id as opaque; this shape is what amojo returns in every published
    example, and the only way to learn the account from an id alone. Returns the account in canonical
    (lower) case. Raises ``ConfigurationError`` (field ``id``) when the id has another shape or names
    another channel.
    """
    example = f"{UUID_EXAMPLE}_<account amojo_id>"
    channel, sep, account = scope_id.partition("_")
    if not sep or uuid_problem(channel) or uuid_problem(account):
        raise ConfigurationError(
            "id", f"{GOT} is not shaped '<channel_id>_<account_id>' (for example {example!r})", scope_id
        )
    if canonical_uuid(channel) != canonical_uuid(channel_id):
        raise ConfigurationError(
            "id", f"{GOT} belongs to channel {canonical_uuid(channel)}, not to {channel_id}", scope_id
        )
    return canonical_uuid(account)
