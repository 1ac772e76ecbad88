"""The ``kommo`` plugin's view of a connection: camelCase names, credentials in provider configuration.

A thin adapter over :mod:`kommo_provider.connection`, as the dynamic resource is: it maps the schema's
names onto the core's, takes the channel id, secret and host from the provider's configuration
instead of the resource, and words every error for someone who wrote a Pulumi program in any language
(``accountId`` on the resource, ``channelId`` on the provider or ``kommo:channelId`` in stack config).
No gRPC here: :mod:`kommo_provider.plugin.server` turns these plain values into protocol messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from .. import connection
from ..connection import Failure
from ..exceptions import ConfigurationError
from ..hosts import resolve_base_url
from ..payloads import DEFAULT_HOOK_API_VERSION, ChannelCredentials
from ..settings import SETTING_KEYS, TransportSettings, client_for, parse_settings
from ..validation import UNKNOWN, WHERE_FROM, is_unknown
from .wire import Secret, is_secret, reveal

CAMEL: Final[dict[str, str]] = {
    "channel_id": "channelId",
    "channel_secret": "channelSecret",
    "base_url": "baseUrl",
    "account_id": "accountId",
    "title": "title",
    "hook_api_version": "hookApiVersion",
    "is_time_window_disabled": "isTimeWindowDisabled",
    "reconnect_triggers": "reconnectTriggers",
    "scope_id": "scopeId",
    "secret_fingerprint": "secretFingerprint",
}
"""Core name -> schema name."""
SNAKE: Final = {v: k for k, v in CAMEL.items()}

RESOURCE_INPUTS: Final = tuple(CAMEL[f] for f in connection.RESOURCE_FIELDS)
STABLE_OUTPUTS: Final = ("scopeId", "channelId", "accountId", "baseUrl")
"""What an in-place update never changes, so previews keep these known for their consumers."""

# What the user changes on the provider when the core says the stored secret's fingerprint differs.
_DIFF_KEY: Final = {"secret_fingerprint": "channelSecret"}


class PluginError(Exception):
    """One sentence for the user, shown by the engine as the operation's error; never the secret."""


class DiffKind(Enum):
    ADD = "add"
    DELETE = "delete"
    UPDATE = "update"


@dataclass(frozen=True)
class Diff:
    """A planned change in the schema's names, ready for a DiffResponse."""

    replaces: tuple[str, ...] = ()
    detailed: dict[str, tuple[DiffKind, bool]] = field(default_factory=dict)
    """Changed property -> (kind, whether it forces a replacement)."""
    delete_before_replace: bool = False
    stables: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.detailed)


@dataclass(frozen=True)
class ProviderConfig:
    """A configured provider: one channel at one host, and how to talk to it."""

    channel_id: str
    channel_secret: str = field(repr=False)
    base_url: str
    settings: TransportSettings

    def credentials(self, channel_id: str | None = None) -> ChannelCredentials:
        return ChannelCredentials(channel_id or self.channel_id, self.channel_secret)


# -- provider configuration -----------------------------------------------------------------------


def _config_missing(prop: str) -> str:
    if prop == "channelSecret":
        how = "run `pulumi config set --secret kommo:channelSecret` (it prompts, or reads stdin)"
    else:
        how = f"run `pulumi config set kommo:{prop} <value>`"
    origin = WHERE_FROM[SNAKE[prop]]
    return f"is required: set {prop} on the kommo provider, or for the default provider {how} ({origin})"


def _config_reason(failure: Failure) -> str:
    return _config_missing(CAMEL[failure.field]) if failure.missing else failure.reason


def _core_view(props: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Revealed values under core names, for the given schema names."""
    return {SNAKE[n]: reveal(props.get(n)) for n in names if n in SNAKE}


def check_config(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate the provider's configuration; the secret goes back as a secret even if sent as plain text."""
    core = _core_view(news, ("channelId", "channelSecret", "baseUrl"))
    failures = [
        (CAMEL[f.field], f"{CAMEL[f.field]} {_config_reason(f)}")
        for f in connection.validate(
            core, connection.CREDENTIAL_FIELDS, required=("channel_id", "channel_secret")
        )
    ]
    _, bad_settings = parse_settings(lambda key: _known(reveal(news.get(key))))
    failures += [
        (key, f"{key} {reason} (stack config kommo:{key} for the default provider)")
        for key, reason in bad_settings
    ]
    inputs = dict(news)
    secret = inputs.get("channelSecret")
    if secret is not None and not is_secret(secret):
        inputs["channelSecret"] = Secret(secret)
    return inputs, failures


def _known(value: Any) -> Any:
    return None if is_unknown(value) else value


def _channel(config: Mapping[str, Any]) -> dict[str, Any]:
    """The channel a provider configuration names, under core names: what decides its connections' fate."""
    host, secret = config.get("baseUrl"), config.get("channelSecret")
    if host is None or (isinstance(host, str) and not is_unknown(host)):
        with contextlib.suppress(ConfigurationError):  # check_config reported it already
            host = resolve_base_url(host)
    if isinstance(secret, str) and secret and not is_unknown(secret):
        secret = connection.secret_fingerprint(secret)
    return {"channel_id": config.get("channelId"), "base_url": host, "secret_fingerprint": secret}


def _kind(before: Any, after: Any) -> DiffKind:
    return DiffKind.ADD if before is None else DiffKind.DELETE if after is None else DiffKind.UPDATE


def _detailed(
    plan: connection.Plan, before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, tuple[DiffKind, bool]]:
    """The core's plan as a detailed diff in the schema's names."""
    return {
        _DIFF_KEY.get(name, CAMEL[name]): (_kind(before.get(name), after.get(name)), name in plan.replaces)
        for name in plan.replaces + plan.updates
    }


def diff_config(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    """The core's plan for the channel the configuration names: a new channel or host replaces the
    provider and with it every connection (a new host: the old connections are deleted first); a
    rotated secret updates it, and its connections reconnect. Other settings only update it."""
    old, new = reveal(dict(olds)), reveal(dict(news))
    before, after = _channel(old), _channel(new)
    plan = connection.plan_change(before, after)
    detailed = _detailed(plan, before, after)
    for key in SETTING_KEYS:
        if old.get(key) != new.get(key):
            detailed[key] = (_kind(old.get(key), new.get(key)), False)
    return Diff(
        replaces=tuple(CAMEL[name] for name in plan.replaces),
        detailed=detailed,
        delete_before_replace=plan.delete_before_replace,
    )


def configure(args: Mapping[str, Any]) -> ProviderConfig:
    """The configuration the engine hands over after :func:`check_config` accepted it."""
    inputs, failures = check_config(args)
    if failures:
        raise PluginError("; ".join(reason for _, reason in failures))
    settings, _ = parse_settings(lambda key: reveal(inputs.get(key)))
    return ProviderConfig(
        channel_id=reveal(inputs["channelId"]),
        channel_secret=reveal(inputs["channelSecret"]),
        base_url=resolve_base_url(reveal(inputs.get("baseUrl"))),
        settings=settings,
    )


# -- the ChatChannelConnection resource -------------------------------------------------------------


def _resource_reason(failure: Failure) -> str:
    if failure.missing:
        origin = WHERE_FROM.get(failure.field)
        return f"is required: set {CAMEL[failure.field]} on the resource" + (f" ({origin})" if origin else "")
    return failure.reason


def check(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate a connection's inputs: one failure per property, in the schema's names."""
    failures: list[tuple[str, str]] = []
    for prop in news:
        if prop not in RESOURCE_INPUTS:
            failures.append(
                (
                    prop,
                    f"{prop} is not a property of ChatChannelConnection; it takes "
                    f"{', '.join(RESOURCE_INPUTS)} (the channel comes from the kommo provider)",
                )
            )
    core = _core_view(news, RESOURCE_INPUTS)
    for f in connection.validate(core, connection.RESOURCE_FIELDS):
        failures.append((CAMEL[f.field], f"{CAMEL[f.field]} {_resource_reason(f)}"))
    triggers = core.get("reconnect_triggers")
    if (
        triggers is not None
        and not is_unknown(triggers)
        and not (isinstance(triggers, list) and all(isinstance(t, str) for t in triggers))
    ):
        failures.append(
            ("reconnectTriggers", f"reconnectTriggers must be a list of strings, got {triggers!r}")
        )
    inputs = dict(news)
    if inputs.get("hookApiVersion") is None:
        inputs["hookApiVersion"] = DEFAULT_HOOK_API_VERSION
    return inputs, failures


def _stored(olds: Mapping[str, Any]) -> dict[str, Any]:
    """A connection's state under core names."""
    return {SNAKE[k]: reveal(v) for k, v in olds.items() if k in SNAKE}


def _desired(config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
    """The connection the program and the provider ask for, under core names."""
    desired = _core_view(news, RESOURCE_INPUTS)
    desired.update(
        channel_id=config.channel_id,
        channel_secret=config.channel_secret,
        base_url=config.base_url,
        secret_fingerprint=connection.secret_fingerprint(config.channel_secret),
    )
    return desired


def diff(config: ProviderConfig, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    """What reconnecting or replacing this connection would change, by the core's plan."""
    stored, desired = _stored(olds), _desired(config, news)
    plan = connection.plan_change(stored, desired)
    return Diff(
        replaces=tuple(CAMEL[n] for n in plan.replaces),
        detailed=_detailed(plan, stored, desired),
        delete_before_replace=plan.delete_before_replace,
        stables=STABLE_OUTPUTS if not plan.replaces else (),
    )


def _outputs(state: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """Core state as schema outputs; secret inputs stay secret, and so does the secret's fingerprint."""
    outs: dict[str, Any] = {}
    for name, value in state.items():
        prop = CAMEL[name]
        if name == "secret_fingerprint" or is_secret(news.get(prop)):
            value = value if isinstance(value, Secret) else Secret(value)
        outs[prop] = value
    return outs


def _unknown_unless_given(news: Mapping[str, Any], prop: str) -> Any:
    value = news.get(prop)
    return UNKNOWN if value is None else value


def preview_create(config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
    """What ``create`` will return, with what only Kommo can answer left unknown. Sends nothing."""
    state = {
        "scope_id": UNKNOWN,
        "channel_id": config.channel_id,
        "account_id": reveal(news.get("accountId")),
        "title": _unknown_unless_given(news, "title"),
        "hook_api_version": news.get("hookApiVersion") or DEFAULT_HOOK_API_VERSION,
        "is_time_window_disabled": _unknown_unless_given(news, "isTimeWindowDisabled"),
        "base_url": config.base_url,
        "reconnect_triggers": news.get("reconnectTriggers"),
        "secret_fingerprint": connection.secret_fingerprint(config.channel_secret),
    }
    return _outputs(state, news)


def preview_update(
    config: ProviderConfig, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> dict[str, Any]:
    """What ``update`` will return: the stored connection with the new inputs; ``scopeId`` stays known."""
    outs = dict(olds)
    outs.update(preview_create(config, news))
    for prop in ("scopeId", "title", "isTimeWindowDisabled"):
        if news.get(prop) is None and olds.get(prop) is not None:
            outs[prop] = olds[prop]
    return outs


def connect(config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
    """Connect with the program's inputs and the provider's channel; the outputs, from Kommo's answer."""
    desired = _desired(config, news)
    failures = connection.validate(desired, connection.CREDENTIAL_FIELDS + connection.RESOURCE_FIELDS)
    if failures:
        raise PluginError("; ".join(f"{CAMEL[f.field]} {_resource_reason(f)}" for f in failures))
    try:
        state = connection.connect(client_for(config.base_url, config.settings), desired)
    except connection.ConnectionFailedError as exc:
        raise PluginError(str(exc)) from None
    return _outputs(state, news)


def delete(config: ProviderConfig, olds: Mapping[str, Any]) -> None:
    """Disconnect the stored connection at the host and channel it was made with."""
    stored = _stored(olds)
    account = stored.get("account_id")
    if not account:
        raise PluginError(
            "this connection's state has no accountId, so it cannot be disconnected; "
            "remove it from the stack with `pulumi state delete <urn>`"
        )
    base_url = stored.get("base_url") or config.base_url
    try:
        connection.disconnect(
            client_for(base_url, config.settings), config.credentials(stored.get("channel_id")), account
        )
    except connection.ConnectionFailedError as exc:
        raise PluginError(str(exc)) from None


def import_state(config: ProviderConfig, scope_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(outputs, inputs) for ``pulumi import`` of a connection made outside Pulumi. Sends nothing.

    Only the id is known here, so the account comes from the id's shape; title and the other
    settings cannot be read back from Kommo and are left for the program's next ``up``.
    """
    try:
        account = connection.account_from_scope_id(scope_id, config.channel_id)
    except ConfigurationError as exc:
        raise PluginError(
            f"cannot import ChatChannelConnection: the id {exc.reason}. Import by the scope_id amojo "
            "returned for this provider's channel; a connection known by another id is adopted by "
            "declaring it with its accountId and running `pulumi up` (connect is idempotent, so the "
            "first up adopts the existing connection and records its scope_id)"
        ) from None
    outputs = {
        "scopeId": scope_id,
        "channelId": config.channel_id,
        "accountId": account,
        "baseUrl": config.base_url,
    }
    return outputs, {"accountId": account}
