"""``kommo:index:ChatChannelConnection``: an account connected to the provider's chat channel (amojo).

The table is the core's (:data:`kommo_provider.connection.CONNECTION`, shared with the Python dynamic
resource); here is what the provider adds to it (the channel, its host and the secret's fingerprint,
from the provider's configuration) and what reaches amojo. amojo cannot read a connection back, so
refresh keeps the state, and import learns the account from the scope_id's shape. Two declared
resources may hold one connection (connect is idempotent): a delete keeps the account connected while
another declared resource holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from .. import connection
from ..claims import ClaimKey, ConnectionKey
from ..configuration import CHAT
from ..exceptions import ConfigurationError, ConnectionFailedError, PluginError
from ..model import Model, is_unknown
from .base import Context, Found, Resource

IMPORT_HINT: Final = (
    "Import by the scope_id amojo returned for this provider's channel; a connection known by another id "
    "is adopted by declaring it with its accountId and running `pulumi up` (connect is idempotent, so the "
    "first up adopts the existing connection and records its scope_id)"
)


class ChatChannelConnection(Resource):
    """Create and update connect; delete disconnects; refresh keeps the state (amojo cannot read it back)."""

    model: ClassVar[Model] = connection.CONNECTION
    group: ClassVar[str] = CHAT
    shared: ClassVar[bool] = True

    def desired(self, ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        wanted = dict(inputs)
        secret = ctx.get("channel_secret")
        wanted.update(
            channel_id=ctx.get("channel_id"),
            base_url=ctx.get("base_url"),
            secret_fingerprint=secret
            if is_unknown(secret) or secret is None
            else connection.secret_fingerprint(secret),
        )
        return wanted

    def stored(self, ctx: Context, id_: str, state: Mapping[str, Any]) -> dict[str, Any]:
        """State with the channel and host it was made with; a state from before they were recorded
        was made with the provider's."""
        found = dict(state)
        for name in ("base_url", "channel_id"):
            if found.get(name) is None:
                found[name] = ctx.get(name)
        return found

    def claim_keys(
        self, ctx: Context, values: Mapping[str, Any], id_: str | None = None
    ) -> tuple[ClaimKey, ...]:
        account, channel, base = values.get("account_id"), values.get("channel_id"), values.get("base_url")
        if not all(isinstance(v, str) and not is_unknown(v) for v in (account, channel, base)):
            return ()
        return (ConnectionKey.of(str(base), str(channel), str(account)),)

    def _connect(self, ctx: Context, desired: Mapping[str, Any]) -> dict[str, Any]:
        props = dict(desired, channel_secret=ctx.get("channel_secret"))
        try:
            return connection.connect(ctx.chat(), props)
        except ConnectionFailedError as exc:
            raise PluginError(str(exc)) from None

    def create(self, ctx: Context, desired: Mapping[str, Any]) -> Found:
        state = self._connect(ctx, desired)
        return Found(str(state["scope_id"]), state)

    def update(
        self, ctx: Context, id_: str, stored: Mapping[str, Any], desired: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._connect(ctx, desired)

    def delete(self, ctx: Context, id_: str, stored: Mapping[str, Any]) -> None:
        """Disconnect the stored connection at the host and channel it was made with."""
        account = stored.get("account_id")
        if not isinstance(account, str) or not account:
            raise PluginError(
                "this connection's state has no accountId, so it cannot be disconnected; "
                "remove it from the stack with `pulumi state delete <urn>`"
            )
        base_url, channel_id = stored.get("base_url"), stored.get("channel_id")
        base_url = base_url if isinstance(base_url, str) else ctx.get("base_url")  # hand-edited state
        channel_id = channel_id if isinstance(channel_id, str) else ctx.get("channel_id")
        try:
            connection.disconnect(ctx.chat(base_url), ctx.credentials(channel_id), account)
        except ConnectionFailedError as exc:
            raise PluginError(str(exc) + _rotation_hint(ctx, stored.get("secret_fingerprint"))) from None

    def read(self, ctx: Context, id_: str, stored: Mapping[str, Any]) -> Found:
        """Refresh sends nothing: amojo has no call that reads a connection back. The state is kept, in
        canonical form (UUIDs in lower case)."""
        return Found(id_, self.model.normalize(stored))

    def import_(self, ctx: Context, id_: str) -> Found:
        """Only the id is known here, so the account comes from the id's shape; the title and the other
        settings cannot be read back from Kommo and are left for the program's next ``up``."""
        channel_id = str(ctx.get("channel_id"))
        try:
            account = connection.account_from_scope_id(id_, channel_id)
        except ConfigurationError as exc:
            raise PluginError(
                f"cannot import ChatChannelConnection: the id {exc.reason}. {IMPORT_HINT}"
            ) from None
        state = {
            "scope_id": f"{channel_id}_{account}",
            "channel_id": channel_id,
            "account_id": account,
            "base_url": ctx.get("base_url"),
            # The connection is this provider's channel's: its secret is the one in effect.
            "secret_fingerprint": connection.secret_fingerprint(str(ctx.get("channel_secret"))),
        }
        return Found(state["scope_id"], state)


def _rotation_hint(ctx: Context, fingerprint: Any) -> str:
    """After a rotation that did not finish, the provider may hold a secret its connections never used."""
    current = connection.secret_fingerprint(str(ctx.get("channel_secret")))
    if isinstance(fingerprint, str) and fingerprint != current:
        return (
            ". This connection was made with another channelSecret than the provider's (a rotation that "
            "did not finish?): set the provider's channelSecret to the secret in effect at Kommo, run "
            "`pulumi up`, then try again"
        )
    return ""


RESOURCE: Final = ChatChannelConnection()
