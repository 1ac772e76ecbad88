"""The Pulumi dynamic provider behind :class:`~kommo_provider.resource.KommoChatChannelConnection`.

Pulumi pickles the provider object into every resource's state and runs it in a separate provider
process (up to four operations at once, sharing one instance). So the object carries nothing: no
secret, no session, no config. Clients are created per process, per host, on first use; the secret
travels with each resource's (secret) inputs and outputs.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
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

from .client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_RETRIES,
    ChannelCredentials,
    ChatApiClient,
)
from .exceptions import ChannelNotFoundError, KommoError
from .hosts import resolve_base_url
from .payloads import DEFAULT_HOOK_API_VERSION
from .validation import check_inputs, is_unknown

log = logging.getLogger("kommo_provider")

REPLACE_FIELDS: Final = ("channel_id", "account_id", "base_url")
"""A different channel, account or host is a different connection."""
UPDATE_FIELDS: Final = (
    "title",
    "hook_api_version",
    "is_time_window_disabled",
    "channel_secret",
    "reconnect_triggers",
)
"""Changes that a fresh connect applies in place."""
UNMANAGED_WHEN_ABSENT: Final = ("title", "is_time_window_disabled")
"""Optional arguments that, when left out, keep whatever Kommo has (no reconnect)."""


class KommoProviderError(Exception):
    """One sentence for the Pulumi user; raised ``from None`` so no chained traceback buries it."""


_clients: dict[tuple[Any, ...], ChatApiClient] = {}
_clients_lock = threading.Lock()


def _client_for(base_url: str, settings: Mapping[str, float | int | None]) -> ChatApiClient:
    """One client per host and settings in this process, so the pacer and connection pools are shared."""
    key = (base_url, *sorted(settings.items()))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = ChatApiClient(
                base_url,
                connect_timeout=float(settings["connect_timeout"] or DEFAULT_CONNECT_TIMEOUT),
                read_timeout=float(settings["read_timeout"] or DEFAULT_READ_TIMEOUT),
                retry=int(
                    settings["max_retries"] if settings["max_retries"] is not None else DEFAULT_RETRIES
                ),
                max_requests_per_second=settings["max_requests_per_second"],
            )
            _clients[key] = client
        return client


def _setup_logging() -> None:
    """Log to stderr: the provider process has no engine connection, so pulumi.log cannot reach it."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("kommo-provider: %(message)s"))
    log.addHandler(handler)
    log.setLevel(os.environ.get("KOMMO_PROVIDER_LOG_LEVEL", "WARNING").upper())
    log.propagate = False


class KommoChatChannelConnectionProvider(ResourceProvider):
    """Create/update = signed connect, delete = disconnect; ``scope_id`` is the resource id."""

    serialize_as_secret_always = True

    def configure(self, req: ConfigureRequest) -> None:
        """Read transport settings from stack config (``kommo:*``); runs once per provider process."""
        _setup_logging()

        def number(key: str) -> float | None:
            value = req.config.get(f"kommo:{key}")
            if value is None or value == "":
                return None
            try:
                return float(value)
            except ValueError:
                raise KommoProviderError(
                    f"stack config kommo:{key} must be a number, got {value!r}"
                ) from None

        rate = number("maxRequestsPerSecond")
        retries = number("maxRetries")
        self._settings: dict[str, float | int | None] = {
            "connect_timeout": number("connectTimeout"),
            "read_timeout": number("readTimeout"),
            "max_retries": int(retries) if retries is not None else None,
            "max_requests_per_second": DEFAULT_MAX_REQUESTS_PER_SECOND if rate is None else rate,
        }

    def _client(self, props: Mapping[str, Any]) -> ChatApiClient:
        settings = getattr(self, "_settings", None)
        if settings is None:  # used directly, without a Pulumi engine calling configure()
            settings = {
                "connect_timeout": None,
                "read_timeout": None,
                "max_retries": None,
                "max_requests_per_second": DEFAULT_MAX_REQUESTS_PER_SECOND,
            }
        return _client_for(resolve_base_url(props.get("base_url")), settings)

    # -- validation and planning: no network ------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate types and formats; fill defaults and normalize ``base_url``. No network call."""
        failures = [CheckFailure(field, reason) for field, reason in check_inputs(news)]
        inputs = dict(news)
        if inputs.get("hook_api_version") is None:
            inputs["hook_api_version"] = DEFAULT_HOOK_API_VERSION
        base_url = inputs.get("base_url")
        if not failures and not is_unknown(base_url):
            inputs["base_url"] = resolve_base_url(base_url)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace on channel, account or host; update on the rest; ignore ``__provider``."""

        def changed(field: str) -> bool:
            new = news.get(field)
            if is_unknown(new):
                return True
            if new is None and field in UNMANAGED_WHEN_ABSENT:
                return False
            old = olds.get(field)
            if field == "base_url":
                return resolve_base_url(new) != resolve_base_url(old)
            return bool(new != old)

        replaces = [f for f in REPLACE_FIELDS if changed(f)]
        updates = [f for f in UPDATE_FIELDS if changed(f)]
        # Same channel and account on a new host: disconnect first, or the old resource's delete
        # would disconnect the connection just made (both hosts may front the same amojo).
        same_pair = "channel_id" not in replaces and "account_id" not in replaces
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            delete_before_replace=bool(replaces) and same_pair,
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
        """Disconnect. A channel Kommo no longer knows counts as gone; any other failure raises,
        which keeps the resource in state."""
        channel = ChannelCredentials(props["channel_id"], props["channel_secret"])
        try:
            self._client(props).disconnect(channel, props["account_id"])
        except ChannelNotFoundError:
            log.warning(
                "channel %s is unknown at %s; treating account %s as disconnected",
                props["channel_id"],
                props.get("base_url"),
                props["account_id"],
            )
        except KommoError as exc:
            raise KommoProviderError(
                f"disconnecting account {props['account_id']} failed, so it stays in state: {exc}"
            ) from None

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Return the stored state unchanged: amojo has no call that reads a connection back."""
        return ReadResult(id_=id_, outs=dict(props))

    def _connect(self, props: dict[str, Any]) -> dict[str, Any]:
        failures = check_inputs(props)
        if failures:
            raise KommoProviderError("; ".join(f"{f}: {r}" for f, r in failures))
        channel = ChannelCredentials(props["channel_id"], props["channel_secret"])
        client = self._client(props)
        try:
            result = client.connect(
                channel,
                props["account_id"],
                title=props.get("title"),
                hook_api_version=props.get("hook_api_version") or DEFAULT_HOOK_API_VERSION,
                is_time_window_disabled=props.get("is_time_window_disabled"),
            )
        except KommoError as exc:
            raise KommoProviderError(
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
            "channel_secret": props["channel_secret"],
            "reconnect_triggers": props.get("reconnect_triggers"),
        }
