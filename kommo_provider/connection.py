"""What a chat-channel connection is: its inputs, how a change is planned, connect, disconnect, its id.

A connection is one Kommo account (its amojo_id) connected to one custom chat channel at one Chat API
host. This module holds every rule about it and no Pulumi types, so both front-ends stay thin: the
Python dynamic resource (:mod:`kommo_provider.provider`) and the ``kommo`` provider plugin
(:mod:`kommo_provider.plugin`) translate names (snake_case here, camelCase in the plugin), types and
error wording, and nothing else. Values come as plain dicts keyed by the core names below.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .exceptions import ChannelNotFoundError, ConfigurationError, KommoError
from .hosts import resolve_base_url
from .payloads import DEFAULT_HOOK_API_VERSION, ChannelCredentials
from .validation import FIELD_CHECKS, UNKNOWN, UUID_EXAMPLE, is_unknown, uuid_problem

if TYPE_CHECKING:  # the client pulls in requests; the plugin imports it on first connect
    from .client import ChatApiClient

__all__ = [
    "CREDENTIAL_FIELDS",
    "KEPT_WHEN_ABSENT",
    "REPLACE_FIELDS",
    "REQUIRED",
    "RESOURCE_FIELDS",
    "UNKNOWN",
    "UPDATE_FIELDS",
    "ConnectionFailedError",
    "Failure",
    "Plan",
    "account_from_scope_id",
    "connect",
    "disconnect",
    "normalize",
    "plan_change",
    "secret_fingerprint",
    "validate",
]

log = logging.getLogger("kommo_provider")

CREDENTIAL_FIELDS: Final = ("channel_id", "channel_secret", "base_url")
"""What identifies the channel and where it lives: per resource in the dynamic front-end, per
provider in the plugin."""
RESOURCE_FIELDS: Final = (
    "account_id",
    "title",
    "hook_api_version",
    "is_time_window_disabled",
    "reconnect_triggers",
)
"""What a connection sets for one account."""
REQUIRED: Final = ("channel_id", "channel_secret", "account_id")

REPLACE_FIELDS: Final = ("channel_id", "account_id", "base_url")
"""A different channel, account or host is a different connection."""
UPDATE_FIELDS: Final = (
    "title",
    "hook_api_version",
    "is_time_window_disabled",
    "secret_fingerprint",
    "reconnect_triggers",
)
"""Changes a fresh connect applies in place; ``secret_fingerprint`` changes when the secret rotates."""
KEPT_WHEN_ABSENT: Final = ("title", "is_time_window_disabled")
"""Optional inputs that, when left out, keep whatever Kommo has (no reconnect)."""


class ConnectionFailedError(KommoError):
    """Connect or disconnect did not succeed; the message is one sentence without the secret."""


@dataclass(frozen=True)
class Failure:
    """One problem with one field. ``missing`` failures carry no reason: the front-end says how to set it."""

    field: str
    reason: str = ""
    missing: bool = False


def validate(
    props: Mapping[str, Any], fields: Iterable[str], *, required: Iterable[str] = REQUIRED
) -> list[Failure]:
    """Every problem with ``fields`` of ``props``, at most one per field, in the order of ``fields``."""
    must = set(required)
    failures: list[Failure] = []
    for field in fields:
        value = props.get(field)
        if value is None or (field == "channel_secret" and value == ""):
            if field in must:
                failures.append(Failure(field, missing=True))
            continue
        check = FIELD_CHECKS.get(field)
        problem = None if check is None or is_unknown(value) else check(value)
        if problem:
            failures.append(Failure(field, problem))
    return failures


def normalize(props: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults and canonical forms of valid inputs: ``hook_api_version`` ``v2``, ``base_url`` as a URL."""
    out = dict(props)
    if out.get("hook_api_version") is None:
        out["hook_api_version"] = DEFAULT_HOOK_API_VERSION
    if "base_url" in out and not is_unknown(out["base_url"]):
        out["base_url"] = resolve_base_url(out["base_url"])
    return out


def secret_fingerprint(secret: str) -> str:
    """A one-way, keyed digest that changes when the secret does; it cannot be turned back into the secret.

    State keeps it so a rotated secret can be noticed without keeping the secret itself on every
    connection.
    """
    return hmac.digest(secret.encode("utf-8"), b"kommo-provider secret fingerprint v1", "sha256").hex()[:32]


# -- planning a change --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a change means: fields that force a replacement, fields a reconnect applies in place."""

    replaces: tuple[str, ...] = ()
    updates: tuple[str, ...] = ()
    delete_before_replace: bool = False

    @property
    def changes(self) -> bool:
        return bool(self.replaces or self.updates)


def plan_change(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Plan:
    """Compare the stored connection with the desired one (both keyed by core names).

    Unknown new values count as changed. ``title`` and ``is_time_window_disabled`` left out keep what
    Kommo has. A field the old state lacks (an imported connection) counts as changed, so the next
    ``up`` applies the program's value with one reconnect.
    """

    def changed(field: str) -> bool:
        new = news.get(field)
        if is_unknown(new):
            return True
        if new is None and field in KEPT_WHEN_ABSENT:
            return False
        old = olds.get(field)
        if field == "base_url" and old is not None and new is not None:
            return resolve_base_url(new) != resolve_base_url(old)
        return bool(new != old)

    replaces = tuple(f for f in REPLACE_FIELDS if changed(f))
    updates = tuple(f for f in UPDATE_FIELDS if changed(f))
    # Same channel and account on a new host: disconnect first, or the old resource's delete
    # would disconnect the connection just made (both hosts may front the same amojo).
    same_pair = "channel_id" not in replaces and "account_id" not in replaces
    return Plan(replaces, updates, delete_before_replace=bool(replaces) and same_pair)


# -- operations that reach Kommo ------------------------------------------------------------------


def connect(client: ChatApiClient, props: Mapping[str, Any]) -> dict[str, Any]:
    """Connect the account and return the connection's state, ``scope_id`` always from Kommo's answer.

    ``props`` must be valid (see :func:`validate`). The state holds every field except the secret,
    which is represented by its :func:`secret_fingerprint`.
    """
    channel = ChannelCredentials(props["channel_id"], props["channel_secret"])
    try:
        result = client.connect(
            channel,
            props["account_id"],
            title=props.get("title"),
            hook_api_version=props.get("hook_api_version") or DEFAULT_HOOK_API_VERSION,
            is_time_window_disabled=props.get("is_time_window_disabled"),
        )
    except KommoError as exc:
        raise ConnectionFailedError(
            f"connecting account {props['account_id']} to channel {props['channel_id']} failed: {exc}"
        ) from None
    return {
        "scope_id": result.scope_id,
        "channel_id": props["channel_id"],
        "account_id": result.account_id,
        "title": result.title,
        "hook_api_version": result.hook_api_version,
        "is_time_window_disabled": result.is_time_window_disabled,
        "base_url": client.base_url,
        "reconnect_triggers": props.get("reconnect_triggers"),
        "secret_fingerprint": secret_fingerprint(props["channel_secret"]),
    }


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
    example, and the only way to learn the account from an id alone. Raises ``ConfigurationError``
    (field ``id``) when the id has another shape or names another channel.
    """
    example = f"{UUID_EXAMPLE}_<account amojo_id>"
    channel, sep, account = scope_id.partition("_")
    if not sep or uuid_problem(channel) or uuid_problem(account):
        raise ConfigurationError(
            "id", f"{scope_id!r} is not shaped '<channel_id>_<account_id>' (for example {example!r})"
        )
    if channel.lower() != channel_id.lower():
        raise ConfigurationError(
            "id", f"{scope_id!r} belongs to channel {channel}, not to {channel_id}"
        )
    return account
