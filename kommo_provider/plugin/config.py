"""The ``kommo`` provider's configuration in the plugin: CheckConfig, DiffConfig and Configure.

Every rule comes from the declared table (:data:`kommo_provider.configuration.PROVIDER`); this module words
the failures for someone writing a Pulumi program in any language (``channelId`` on the provider, or
``kommo:channelId`` in stack config for the default provider). A value not known yet during a preview
(another resource's output) is accepted and checked when it is known, at ``up``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..configuration import GROUPS, PROVIDER
from ..exceptions import PluginError
from ..hosts import resolve_api_base_url, resolve_base_url
from ..model import Failure, Field, is_unknown
from ..payloads import ChannelCredentials
from ..settings import TransportSettings, parse_settings
from ..tokens import expiry_warning
from .diffs import Diff, detailed
from .wire import Secret, is_secret, reveal, secret_names

if TYPE_CHECKING:  # the clients pull in requests: imported on first use, not at the plugin's start-up
    from ..rest import RestApiClient

log = logging.getLogger("kommo_provider")


@dataclass(frozen=True)
class ProviderConfig:
    """A configured provider: the values of its table (core names), and how to talk to Kommo.

    Values are ``None`` when left out and :data:`~kommo_provider.model.UNKNOWN` when a preview does not
    know them yet.
    """

    values: Mapping[str, Any] = field(repr=False)
    settings: TransportSettings = field(default_factory=TransportSettings)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def missing(self, group: str) -> list[Field]:
        """The required fields of ``group`` this configuration leaves out."""
        return [PROVIDER.field(n) for n in GROUPS[group].required if self.values.get(n) is None]

    def known(self, *names: str) -> bool:
        return not any(is_unknown(self.values.get(n)) for n in names)

    @property
    def channel_id(self) -> str:
        return str(self.values["channel_id"])

    @property
    def base_url(self) -> str:
        return str(self.values["base_url"])

    def credentials(self, channel_id: str | None = None) -> ChannelCredentials:
        return ChannelCredentials(channel_id or self.channel_id, str(self.values["channel_secret"]))

    def rest(self) -> RestApiClient:
        """The account's REST API client: ``apiBaseUrl``, else ``https://<accountDomain>``."""
        from ..rest import rest_client_for

        base = resolve_api_base_url(self.values.get("api_base_url"), self.values.get("account_domain"))
        return rest_client_for(base, str(self.values["access_token"]), self.settings)


def how_to_set(prop: Field) -> str:
    """How to give a provider property: on an explicit provider, or in stack config for the default one."""
    key = prop.config_key or f"kommo:{prop.schema_name}"
    if prop.secret:
        how = f"run `pulumi config set --secret {key}` (it prompts, or reads stdin)"
    else:
        how = f"run `pulumi config set {key} <value>`"
    origin = f" ({prop.where_from})" if prop.where_from else ""
    return f"set {prop.schema_name} on the kommo provider, or for the default provider {how}{origin}"


def _reason(failure: Failure) -> str:
    prop = PROVIDER.field(failure.field)
    if failure.missing:
        return f"{prop.schema_name} is required: {how_to_set(prop)}"
    suffix = f" (stack config {prop.config_key} for the default provider)" if prop.text_in_config else ""
    return f"{prop.schema_name} {failure.reason}{suffix}"


def check_config(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate the provider's configuration; secrets go back as secrets even if sent as plain text.

    A group given in part (a channel id without its secret) fails naming what is missing; a group left
    out entirely is fine here, and a resource that needs it fails at its own check.
    """
    core = PROVIDER.to_core(reveal(dict(news)))
    required = [
        name
        for group in GROUPS.values()
        if any(core.get(n) is not None for n in group.required)
        for name in group.required
    ]
    found = PROVIDER.validate(core, secret=secret_names(PROVIDER, news), required=required)
    failures = [(PROVIDER.field(f.field).schema_name, _reason(f)) for f in found]
    inputs = dict(news)
    for prop in PROVIDER.fields:
        value = inputs.get(prop.schema_name)
        if prop.secret and value is not None and not is_secret(value):
            inputs[prop.schema_name] = Secret(value)
    return inputs, failures


def diff_config(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    """The table's plan for the provider: a new channel or host replaces the provider and with it every
    resource made through it (a new host: the old ones are deleted first); a rotated secret or another
    setting updates it in place, and the connections reconnect."""
    before, after = PROVIDER.to_core(reveal(dict(olds))), PROVIDER.to_core(reveal(dict(news)))
    plan = PROVIDER.plan(before, after)
    return Diff(
        replaces=tuple(PROVIDER.field(n).schema_name for n in plan.replaces),
        detailed=detailed(PROVIDER, plan, before, after),
        delete_before_replace=plan.delete_before_replace,
    )


def configure(args: Mapping[str, Any]) -> ProviderConfig:
    """The configuration the engine hands over after :func:`check_config` accepted it.

    Values still unknown (a preview) stay unknown; the real ones come with ``up``.
    """
    inputs, failures = check_config(args)
    if failures:
        raise PluginError("; ".join(reason for _, reason in failures))
    plain = reveal(inputs)
    values = PROVIDER.normalize(PROVIDER.to_core(plain))
    if values.get("base_url") is None:
        values["base_url"] = resolve_base_url(None)
    token = values.get("access_token")
    warning = expiry_warning(token) if isinstance(token, str) and not is_unknown(token) else None
    if warning:
        log.warning("%s", warning)
    settings, _ = parse_settings(lambda key: _known(plain.get(key)))
    return ProviderConfig(values=values, settings=settings)


def _known(value: Any) -> Any:
    return None if is_unknown(value) else value
