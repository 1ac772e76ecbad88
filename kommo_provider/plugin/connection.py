"""``kommo:index:ChatChannelConnection`` in the plugin: the channel comes from the provider's configuration.

Check, Diff and the previews are derived from :data:`kommo_provider.connection.CONNECTION`; this module
adds what the provider contributes (the channel, host and secret fingerprint) and what reaches amojo.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from .. import connection
from ..claims import Claims, ConnectionKey
from ..configuration import CHAT
from ..exceptions import ConfigurationError, ConnectionFailedError, PluginError
from ..model import Model, is_unknown
from .config import ProviderConfig
from .diffs import Diff
from .resources import ModelResource

if TYPE_CHECKING:
    from ..client import ChatApiClient

IMPORT_HINT: Final = (
    "Import by the scope_id amojo returned for this provider's channel; a connection known by another id "
    "is adopted by declaring it with its accountId and running `pulumi up` (connect is idempotent, so the "
    "first up adopts the existing connection and records its scope_id)"
)


class ChatChannelConnection(ModelResource):
    """Create and update connect; delete disconnects; refresh keeps the state (amojo cannot read it back)."""

    model: ClassVar[Model] = connection.CONNECTION
    group: ClassVar[str] = CHAT

    def __init__(self, claims: Claims | None = None) -> None:
        self.claims = claims if claims is not None else Claims(None)

    def desired(self, config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
        wanted = super().desired(config, news)
        secret = config.get("channel_secret")
        wanted.update(
            channel_id=config.get("channel_id"),
            base_url=config.get("base_url"),
            secret_fingerprint=secret if is_unknown(secret) else connection.secret_fingerprint(secret),
        )
        return wanted

    def _claim(self, config: ProviderConfig, account: Any, *, made: bool = False) -> None:
        """Record that a resource still declared in this run holds this connection (see :mod:`..claims`)."""
        if isinstance(account, str) and not is_unknown(account) and config.known("channel_id", "base_url"):
            self.claims.claim(ConnectionKey.of(config.base_url, config.channel_id, account))

    def check(
        self, config: ProviderConfig | None, news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        inputs, failures = super().check(config, news)
        if config is not None and not failures:
            self._claim(config, self.model.to_core(inputs).get("account_id"))
        return inputs, failures

    def diff(self, config: ProviderConfig, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
        self._claim(config, self.desired(config, news).get("account_id"))
        return super().diff(config, olds, news)

    def _connect(self, config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
        self.require_group(config)
        desired = self.desired(config, news)
        desired["channel_secret"] = config.get("channel_secret")
        failures = connection.validate(desired)
        if failures:
            raise PluginError("; ".join(self._reason(f) for f in failures))
        try:
            state = connection.connect(_client(config.base_url, config), desired)
        except ConnectionFailedError as exc:
            raise PluginError(str(exc)) from None
        return self.outputs(state, news)

    def create(self, config: ProviderConfig, news: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        outputs = self._connect(config, news)
        return str(outputs["scopeId"]), outputs

    def update(
        self, config: ProviderConfig, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._connect(config, news)

    def delete(self, config: ProviderConfig, id_: str, olds: Mapping[str, Any]) -> None:
        """Disconnect the stored connection at the host and channel it was made with, unless a resource
        still declared in this run holds the same connection: then only the state goes."""
        self.require_group(config)
        stored = self.stored(olds)
        account = stored.get("account_id")
        if not isinstance(account, str) or not account:
            raise PluginError(
                "this connection's state has no accountId, so it cannot be disconnected; "
                "remove it from the stack with `pulumi state delete <urn>`"
            )
        base_url, channel_id = stored.get("base_url"), stored.get("channel_id")
        base_url = base_url if isinstance(base_url, str) else config.base_url
        channel_id = channel_id if isinstance(channel_id, str) else config.channel_id
        key = ConnectionKey.of(base_url, channel_id, account)
        if self.claims.held(key):
            self.claims.warn_kept(key)
            return
        fingerprint = stored.get("secret_fingerprint")
        try:
            connection.disconnect(_client(base_url, config), config.credentials(channel_id), account)
        except ConnectionFailedError as exc:
            raise PluginError(str(exc) + _rotation_hint(config, fingerprint)) from None

    def read(
        self, config: ProviderConfig, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Refresh sends nothing: amojo has no call that reads a connection back. The state is kept, in
        canonical form (UUIDs in lower case)."""
        state = self.model.normalize(self.stored(olds))
        canonical_inputs = self.model.normalize(self.model.to_core(dict(inputs)))
        return (
            id_,
            self.outputs(state, olds),
            {k: v for k, v in self.model.to_schema(canonical_inputs).items() if k in inputs},
        )

    def import_(self, config: ProviderConfig, id_: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Only the id is known here, so the account comes from the id's shape; the title and the other
        settings cannot be read back from Kommo and are left for the program's next ``up``."""
        self.require_group(config)
        try:
            account = connection.account_from_scope_id(id_, config.channel_id)
        except ConfigurationError as exc:
            raise PluginError(
                f"cannot import ChatChannelConnection: the id {exc.reason}. {IMPORT_HINT}"
            ) from None
        state = {
            "scope_id": f"{config.channel_id}_{account}",
            "channel_id": config.channel_id,
            "account_id": account,
            "base_url": config.base_url,
            # The connection is this provider's channel's: its secret is the one in effect.
            "secret_fingerprint": connection.secret_fingerprint(str(config.get("channel_secret"))),
        }
        self._claim(config, account)
        return state["scope_id"], self.outputs(state, {}), {"accountId": account}


def _client(base_url: str, config: ProviderConfig) -> ChatApiClient:
    from ..client import client_for  # requests, on first use: not at the plugin's start-up

    return client_for(base_url, config.settings)


def _rotation_hint(config: ProviderConfig, fingerprint: Any) -> str:
    """After a rotation that did not finish, the provider may hold a secret its connections never used."""
    current = connection.secret_fingerprint(str(config.get("channel_secret")))
    if isinstance(fingerprint, str) and fingerprint != current:
        return (
            ". This connection was made with another channelSecret than the provider's (a rotation that "
            "did not finish?): set the provider's channelSecret to the secret in effect at Kommo, run "
            "`pulumi up`, then try again"
        )
    return ""
