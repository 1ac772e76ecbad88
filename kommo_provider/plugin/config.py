"""The ``kommo`` provider's configuration in the plugin: CheckConfig, DiffConfig and Configure.

Every rule comes from the declared table (:data:`kommo_provider.configuration.PROVIDER`); this module words
the failures for someone writing a Pulumi program in any language (``channelId`` on the provider, or
``kommo:channelId`` in stack config for the default provider). A value not known yet during a preview
(another resource's output) is accepted and checked when it is known, at ``up``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..claims import Claims
from ..configuration import PROVIDER, provider_plan
from ..exceptions import PluginError
from ..hosts import resolve_account_domain, resolve_base_url
from ..model import Failure, Field, Kind, is_unknown
from ..payloads import ChannelCredentials
from ..settings import TransportSettings, parse_settings
from ..tokens import expiry_warning
from .credentials import AccountTokens
from .diffs import Diff, detailed
from .wire import Secret, is_secret, reveal, secret_names

if TYPE_CHECKING:  # the clients pull in requests: imported on first use, not at the plugin's start-up
    from ..client import ChatApiClient
    from ..rest import RestApiClient

log = logging.getLogger("kommo_provider")

DEFAULT_TOKEN_COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True)
class ProviderConfig:
    """A configured provider: the values of its table (core names), and how to talk to Kommo.

    Values are ``None`` when left out and :data:`~kommo_provider.model.UNKNOWN` when a preview does not
    know them yet. It is the :class:`~kommo_provider.resources.base.Context` every operation gets.
    """

    values: Mapping[str, Any] = field(repr=False)
    settings: TransportSettings = field(default_factory=TransportSettings)
    tokens: AccountTokens = field(default_factory=AccountTokens, repr=False)
    claims: Claims = field(default_factory=lambda: Claims(None))

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def missing(self, group: str) -> list[Field]:
        """What ``group`` needs that this configuration leaves out (chat: a channel and its secret)."""
        needed = ("channel_id", "channel_secret") if group == "chat" else ()
        return [PROVIDER.field(n) for n in needed if self.values.get(n) is None]

    def known(self, *names: str) -> bool:
        return not any(is_unknown(self.values.get(n)) for n in names)

    @property
    def default_account(self) -> str | None:
        account = self.values.get("account_domain")
        return account if isinstance(account, str) and not is_unknown(account) else None

    def token_origin(self, account: str) -> str | None:
        return self.tokens.origin(account)

    def credentials(self, channel_id: str | None = None) -> ChannelCredentials:
        return ChannelCredentials(
            channel_id or str(self.values["channel_id"]), str(self.values["channel_secret"])
        )

    def chat(self, base_url: str | None = None) -> ChatApiClient:
        from ..clients import chat_client  # requests, on first use

        return chat_client(base_url or str(self.values["base_url"]), self.settings)

    def rest(self, account: str) -> RestApiClient:
        """``account``'s REST API client: at ``apiBaseUrl``, else at ``https://<account>``."""
        from ..clients import rest_client  # requests, on first use

        # Both are canonical already (the configuration's apiBaseUrl, the object's account): no URL is
        # taken apart again on each call.
        base = self.values.get("api_base_url") or f"https://{resolve_account_domain(account)}"
        return rest_client(str(base), account, self.tokens, self.settings)


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


def _from_config_text(core: dict[str, Any]) -> dict[str, Any]:
    """Stack config holds text: a map or a list set there arrives as its JSON text; read it as JSON."""
    for prop in PROVIDER.fields:
        value = core.get(prop.name)
        if (
            prop.kind in (Kind.STRING_MAP, Kind.STRING_LIST)
            and isinstance(value, str)
            and not is_unknown(value)
        ):
            with contextlib.suppress(ValueError):  # not JSON: the check says what it should be
                core[prop.name] = json.loads(value)
    return core


def _required(core: Mapping[str, Any]) -> list[str]:
    """What must be given with what was: a channel with its secret; a default account with a token for
    it (``accessToken``, ``accessTokens`` or ``tokenCommand``); ``accessToken`` with the account it is for."""

    def given(name: str) -> bool:
        return core.get(name) not in (None, "")

    needed: list[str] = []
    if given("channel_id") or given("channel_secret"):
        needed += ["channel_id", "channel_secret"]
    if given("access_token"):
        needed.append("account_domain")
    account = core.get("account_domain")
    if isinstance(account, str) and not given("token_command") and not given("access_token"):
        tokens = core.get("access_tokens")
        covered = is_unknown(tokens) or (isinstance(tokens, dict) and _covers(tokens, account))
        if not covered:
            needed.append("access_token")
    return needed


def _covers(tokens: Mapping[str, Any], account: str) -> bool:
    try:
        wanted = resolve_account_domain(account)
        return any(resolve_account_domain(str(host)) == wanted for host in tokens)
    except ValueError:
        return True  # a malformed key or account is refused by its own check


def check_config(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate the provider's configuration; secrets go back as secrets even if sent as plain text.

    A half given in part (a channel id without its secret, a default account without a token for it)
    fails naming what is missing; a half left out entirely is fine here, and a resource that needs it
    fails at its own check.
    """
    core = _from_config_text(PROVIDER.to_core(reveal(dict(news))))
    found = PROVIDER.validate(core, secret=secret_names(PROVIDER, news), required=_required(core))
    failures = [(PROVIDER.field(f.field).schema_name, _reason(f)) for f in found]
    inputs = dict(news)
    for prop in PROVIDER.fields:
        value = inputs.get(prop.schema_name)
        if prop.secret and value is not None and not is_secret(value):
            inputs[prop.schema_name] = Secret(value)
    return inputs, failures


def diff_config(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    """The provider's plan (:func:`~kommo_provider.configuration.provider_plan`): a new channel, or another
    default account, replaces the provider and what was made through it; anything else updates it in
    place, and each resource's own plan says what that means for it."""
    before = PROVIDER.normalize(_from_config_text(PROVIDER.to_core(reveal(dict(olds)))))
    after = PROVIDER.normalize(_from_config_text(PROVIDER.to_core(reveal(dict(news)))))
    plan = provider_plan(before, after)
    return Diff(
        replaces=tuple(PROVIDER.field(n).schema_name for n in plan.replaces),
        detailed=detailed(PROVIDER, plan, before, after),
        delete_before_replace=False,
    )


def configure(args: Mapping[str, Any], claims: Claims | None = None) -> ProviderConfig:
    """The configuration the engine hands over after :func:`check_config` accepted it.

    Values still unknown (a preview) stay unknown; the real ones come with ``up``.
    """
    inputs, failures = check_config(args)
    if failures:
        raise PluginError("; ".join(reason for _, reason in failures))
    plain = reveal(inputs)
    values = PROVIDER.normalize(_from_config_text(PROVIDER.to_core(plain)))
    if values.get("base_url") is None:
        values["base_url"] = resolve_base_url(None)
    token = values.get("access_token")
    warning = expiry_warning(token) if isinstance(token, str) and not is_unknown(token) else None
    if warning:
        log.warning("%s", warning)
    settings, _ = parse_settings(lambda key: _known(plain.get(key)))
    return ProviderConfig(
        values=values, settings=settings, tokens=_tokens(values), claims=claims or Claims(None)
    )


def _tokens(values: Mapping[str, Any]) -> AccountTokens:
    """Where each account's token comes from, as far as this configuration is known."""
    timeout = _known(values.get("token_command_timeout"))
    tokens = _known(values.get("access_tokens"))
    return AccountTokens(
        tokens={h: t for h, t in tokens.items() if isinstance(t, str) and not is_unknown(t)}
        if isinstance(tokens, dict)
        else None,
        default_account=_known(values.get("account_domain")),
        default_token=_known(values.get("access_token")),
        command=_known(values.get("token_command")),
        timeout=float(timeout) if timeout is not None else DEFAULT_TOKEN_COMMAND_TIMEOUT,
    )


def _known(value: Any) -> Any:
    return None if is_unknown(value) else value
