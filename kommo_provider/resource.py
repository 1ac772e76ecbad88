"""The ``KommoChatChannelConnection`` Pulumi resource: one Kommo account connected to a chat channel."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from .exceptions import ConfigurationError
from .payloads import DEFAULT_HOOK_API_VERSION
from .provider import CONFIG_KEYS, KommoChatChannelConnectionProvider, missing_reason


class KommoChatChannelConnection(Resource, module="kommo", name="ChatChannelConnection"):
    """Connects a Kommo account to a custom chat channel; ``scope_id`` feeds every later chat call.

    Arguments left out fall back to stack config: ``channel_id`` → ``kommo:channelId``,
    ``channel_secret`` → ``kommo:channelSecret`` (set it with ``--secret``), ``account_id`` →
    ``kommo:accountId``, ``base_url`` → ``kommo:baseUrl`` (default ``https://amojo.kommo.com``; also
    ``amocrm.ru``, ``amocrm.com`` or an emulator URL on 127.0.0.1).

    ``reconnect_triggers``: any change forces a fresh connect. Kommo disables the channel when the
    integration is disabled and needs a new connect after each reinstall; bump a value here (for
    example the reinstall date) to say "reinstalled" without touching anything else.

    ``title`` and ``is_time_window_disabled`` left out mean "keep what Kommo has".
    """

    scope_id: pulumi.Output[str]
    """The connection's id in amojo; every message and chat call for this account uses it."""
    channel_id: pulumi.Output[str]
    account_id: pulumi.Output[str]
    title: pulumi.Output[str]
    hook_api_version: pulumi.Output[str]
    is_time_window_disabled: pulumi.Output[bool]
    base_url: pulumi.Output[str]
    channel_secret: pulumi.Output[str]
    """Stored only as a secret."""
    reconnect_triggers: pulumi.Output[Any]

    def __init__(
        self,
        resource_name: str,
        *,
        channel_id: pulumi.Input[str] | None = None,
        channel_secret: pulumi.Input[str] | None = None,
        account_id: pulumi.Input[str] | None = None,
        title: pulumi.Input[str] | None = None,
        hook_api_version: pulumi.Input[str] = DEFAULT_HOOK_API_VERSION,
        is_time_window_disabled: pulumi.Input[bool] | None = None,
        base_url: pulumi.Input[str] | None = None,
        reconnect_triggers: pulumi.Input[Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        config = pulumi.Config("kommo")
        channel_id = channel_id if channel_id is not None else config.get("channelId")
        account_id = account_id if account_id is not None else config.get("accountId")
        base_url = base_url if base_url is not None else config.get("baseUrl")
        if channel_secret is None:
            channel_secret = config.get_secret("channelSecret")
        for field, value in (
            ("channel_id", channel_id),
            ("channel_secret", channel_secret),
            ("account_id", account_id),
        ):
            if value is None:
                raise ConfigurationError(
                    field,
                    f"{missing_reason(field)} (resource {resource_name!r}, config key {CONFIG_KEYS[field]})",
                )
        props: dict[str, Any] = {
            "channel_id": channel_id,
            # Secret even when given as a plain string: it must never land in state in clear.
            "channel_secret": pulumi.Output.secret(channel_secret),
            "account_id": account_id,
            "title": title,
            "hook_api_version": hook_api_version,
            "is_time_window_disabled": is_time_window_disabled,
            "base_url": base_url,
            "reconnect_triggers": reconnect_triggers,
            "scope_id": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["channel_secret"])
        )
        super().__init__(KommoChatChannelConnectionProvider(), resource_name, props, opts)
