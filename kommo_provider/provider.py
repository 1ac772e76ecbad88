"""The Pulumi dynamic provider behind :class:`~kommo_provider.resource.KommoChatChannelConnection`.

A thin adapter over :mod:`kommo_provider.connection`, which holds what a connection means: this module
only maps the core's answers onto Pulumi's dynamic-provider types and words errors for a Python
program (arguments and ``kommo:`` stack config keys).

Pulumi pickles the provider object into every resource's state and runs it in a separate provider
process (up to four operations at once, sharing one instance). So the object carries nothing: no
secret, no session, no config. Clients are created per process, per host, on first use; the secret
travels with each resource's (secret) inputs and outputs.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, Final

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from . import connection
from .claims import Claims, ConnectionKey
from .client import ChatApiClient
from .clients import chat_client
from .connection import DYNAMIC_CONNECTION
from .exceptions import ConnectionFailedError, KommoProviderError
from .hosts import resolve_base_url
from .model import Failure, is_unknown
from .payloads import ChannelCredentials
from .settings import TransportSettings, parse_settings

log = logging.getLogger("kommo_provider")

SECRET_INPUTS: Final = "__secret_inputs"
"""The inputs the program made secret, which the engine hands a dynamic provider in plain text: their
values are never shown in a message. Set by :class:`~kommo_provider.resource.KommoChatChannelConnection`."""


def missing_reason(field: str) -> str:
    """How to give a required value in a Python program: the argument or its stack config key."""
    spec = DYNAMIC_CONNECTION.field(field)
    key = spec.config_key
    if spec.secret:
        # No value on the command line: `pulumi config set` prompts for it or reads it from stdin.
        how = f" or run `pulumi config set --secret {key}` (it prompts, or reads the value from stdin)"
    else:
        how = f" or run `pulumi config set {key} <value>`" if key else ""
    origin = f" ({spec.where_from})" if spec.where_from else ""
    return f"is required: pass the {field} argument{how}{origin}"


def _reason(failure: Failure) -> str:
    return missing_reason(failure.field) if failure.missing else failure.reason


def _setup_logging() -> None:
    """Log to stderr: the provider process has no engine connection, so pulumi.log cannot reach it."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("kommo-provider: %(message)s"))
    log.addHandler(handler)
    log.setLevel(os.environ.get("KOMMO_PROVIDER_LOG_LEVEL", "WARNING").upper())
    log.propagate = False


def _with_fingerprint(props: Mapping[str, Any]) -> dict[str, Any]:
    """The core compares secrets by fingerprint; dynamic state keeps the secret itself (as a secret)."""
    out = dict(props)
    secret = props.get("channel_secret")
    if isinstance(secret, str) and secret and not is_unknown(secret):
        out["secret_fingerprint"] = connection.secret_fingerprint(secret)
    else:
        out["secret_fingerprint"] = secret
    return out


def _key(props: Mapping[str, Any]) -> ConnectionKey | None:
    """The connection ``props`` name, when every part of it is a known string."""
    channel, account, base = props.get("channel_id"), props.get("account_id"), props.get("base_url")
    if not (isinstance(channel, str) and isinstance(account, str)) or is_unknown(base):
        return None
    if not channel or not account or is_unknown(channel) or is_unknown(account):
        return None
    return ConnectionKey.of(base if isinstance(base, str) else resolve_base_url(None), channel, account)


class KommoChatChannelConnectionProvider(ResourceProvider):
    """Create/update = signed connect, delete = disconnect; ``scope_id`` is the resource id."""

    serialize_as_secret_always = True

    def configure(self, req: ConfigureRequest) -> None:
        """Read transport settings from stack config (``kommo:*``); runs once per provider process.

        A bad value does not raise here (the engine would show a traceback): ``check`` reports it as
        one line naming the key, and the operations that run without ``check`` raise it.
        """
        _setup_logging()
        settings, failures = parse_settings(lambda key: req.config.get(f"kommo:{key}"))
        self._settings: TransportSettings = settings
        self._config_failures = [f"stack config kommo:{key} {reason}" for key, reason in failures]
        # Only the engine calls configure: the connections this run's declared resources hold.
        self._claims = Claims.for_dynamic_provider()

    def __getstate__(self) -> dict[str, Any]:
        """What configure() read belongs to one process; the pickle in state carries none of it."""
        return {
            k: v for k, v in self.__dict__.items() if k not in ("_settings", "_config_failures", "_claims")
        }

    def _client(self, props: Mapping[str, Any]) -> ChatApiClient:
        failures: list[str] = getattr(self, "_config_failures", [])
        if failures:
            raise KommoProviderError("; ".join(failures))
        # Used directly, without an engine calling configure(): the defaults.
        settings = getattr(self, "_settings", TransportSettings())
        return chat_client(resolve_base_url(props.get("base_url")), settings)

    def _claim(self, props: Mapping[str, Any]) -> None:
        claims: Claims | None = getattr(self, "_claims", None)
        key = _key(props)
        if claims is not None and key is not None:
            claims.claim(key)

    # -- validation and planning: no network ------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate types and formats; fill defaults and canonical forms (``base_url`` as a URL, UUIDs in
        lower case). No network call. Values the program made secret are never shown in a reason."""
        secret = news.get(SECRET_INPUTS)
        hidden = tuple(secret) if isinstance(secret, list) else ()
        found = DYNAMIC_CONNECTION.validate(news, secret=hidden)
        failures = [CheckFailure("", reason) for reason in getattr(self, "_config_failures", [])]
        failures += [CheckFailure(f.field, _reason(f)) for f in found]
        inputs = DYNAMIC_CONNECTION.normalize(news) if not found else dict(news)
        if not found:
            self._claim(inputs)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace on channel, account or host; update on the rest; ignore ``__provider``."""
        self._claim(news)
        plan = connection.plan_change(_with_fingerprint(olds), _with_fingerprint(news))
        return DiffResult(
            changes=plan.changes,
            replaces=list(plan.replaces),
            delete_before_replace=plan.delete_before_replace,
        )

    # -- operations that reach Kommo --------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Connect. If it fails nothing was created, so Pulumi records nothing."""
        outs = self._connect(props)
        return CreateResult(id_=outs["scope_id"], outs=outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Connect again with the new values; returns every output (Pulumi's default drops them).

        If the connect fails, the previous state stays as it was.
        """
        return UpdateResult(outs=self._connect(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Disconnect. A channel Kommo no longer knows counts as gone; any other failure raises, which
        keeps the resource in state. A connection another resource declared in this run holds is kept
        connected, with a warning: only this resource's state goes."""
        claims: Claims | None = getattr(self, "_claims", None)
        key = _key(props)
        if claims is not None and key is not None and claims.held(key):
            claims.warn_kept(key)
            return
        channel = ChannelCredentials(props["channel_id"], props["channel_secret"])
        try:
            connection.disconnect(self._client(props), channel, props["account_id"])
        except ConnectionFailedError as exc:
            raise KommoProviderError(str(exc)) from None

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The stored state, in canonical form: amojo has no call that reads a connection back."""
        return ReadResult(id_=id_, outs=DYNAMIC_CONNECTION.normalize(props))

    def _connect(self, props: dict[str, Any]) -> dict[str, Any]:
        # check() ran already under the engine; this guards direct callers, for microseconds.
        failures = DYNAMIC_CONNECTION.validate(props)
        if failures:
            raise KommoProviderError("; ".join(f"{f.field}: {_reason(f)}" for f in failures))
        try:
            state = connection.connect(self._client(props), props)
        except ConnectionFailedError as exc:
            raise KommoProviderError(str(exc)) from None
        del state["secret_fingerprint"]
        state["channel_secret"] = props["channel_secret"]
        if SECRET_INPUTS in props:
            state[SECRET_INPUTS] = props[SECRET_INPUTS]
        return state
