"""What every resource and function of the ``kommo`` provider is, whatever it manages.

A resource is its table (:class:`~kommo_provider.model.Model`: every property, its rules and what a
change does), the half of the provider it needs (the chat channel, or the REST accounts), and what
reaches Kommo: create, read, update, delete and import, in core names and plain values. Everything
else (checking inputs, planning a diff, previews, secrets, claims, the wire) is the plugin's, and the
same for every resource (:mod:`kommo_provider.plugin.resources`). A function is its table and the read
that answers it.

The operations get the configured provider as a :class:`Context`, which hands out clients and says
what the provider holds; they never see Pulumi's types.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..model import Model

if TYPE_CHECKING:
    from ..claims import ClaimKey
    from ..client import ChatApiClient
    from ..payloads import ChannelCredentials
    from ..rest import RestApiClient


class Context(Protocol):
    """What an operation gets from the configured provider."""

    def get(self, name: str) -> Any:
        """A value of the provider's configuration, by core name (``None`` when left out)."""

    def known(self, *names: str) -> bool:
        """Whether those values are known (a preview may not know them yet)."""

    @property
    def default_account(self) -> str | None:
        """The host of the account that objects without their own ``account`` belong to."""

    def token_origin(self, account: str) -> str | None:
        """Which provider property gives ``account``'s token, or ``None`` when none does."""

    def rest(self, account: str) -> RestApiClient:
        """A client for ``account``'s REST API, its token resolved when a call needs it."""

    def chat(self, base_url: str | None = None) -> ChatApiClient:
        """The Chat API client of ``base_url`` (default: the provider's host)."""

    def credentials(self, channel_id: str | None = None) -> ChannelCredentials:
        """The channel's id and secret (the provider's channel unless another id is given)."""


@dataclass(frozen=True)
class Found:
    """An object as Kommo has it: the resource's id for it, and its state (core names)."""

    id: str
    state: dict[str, Any]


class Resource(ABC):
    """One resource type of the provider: its table, what it needs, and what reaches Kommo."""

    model: ClassVar[Model]
    group: ClassVar[str]
    """The half of the provider it needs (:data:`~kommo_provider.configuration.GROUPS`)."""
    shared: ClassVar[bool] = False
    """Whether two declared resources may hold one object (an amojo connection: connect is idempotent).
    When not, a second one is refused at preview."""

    def desired(self, ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The object the program asks for (core names), with what the provider adds to it."""
        return dict(inputs)

    def stored(self, ctx: Context, id_: str, state: Mapping[str, Any]) -> dict[str, Any]:
        """A resource's stored state (core names), with what an earlier release did not record."""
        return dict(state)

    def problems(self, ctx: Context, desired: Mapping[str, Any]) -> list[tuple[str, str]]:
        """What the provider lacks for this object, as ``(core field or "", reason)``; checked at preview."""
        return []

    def claim_keys(
        self, ctx: Context, values: Mapping[str, Any], id_: str | None = None
    ) -> tuple[ClaimKey, ...]:
        """What names the object in Kommo, so a delete never removes an object another declared resource
        holds; ``()`` while it is not known (a preview)."""
        return ()

    @abstractmethod
    def create(self, ctx: Context, desired: Mapping[str, Any]) -> Found:
        """Make the object; only what Kommo made is returned. Fails leaving nothing made, or says what."""

    @abstractmethod
    def read(self, ctx: Context, id_: str, stored: Mapping[str, Any]) -> Found | None:
        """Refresh: the object as Kommo has it now, or ``None`` when it is gone."""

    @abstractmethod
    def update(
        self, ctx: Context, id_: str, stored: Mapping[str, Any], desired: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change the object in place; its state as Kommo answers. Fails leaving the old one."""

    @abstractmethod
    def delete(self, ctx: Context, id_: str, stored: Mapping[str, Any]) -> None:
        """Remove the object; one already gone counts as removed. Fails keeping it in state."""

    @abstractmethod
    def import_(self, ctx: Context, id_: str) -> Found:
        """``pulumi import``: the whole object from its id alone (its canonical id may differ)."""


class Function(ABC):
    """One function (invoke) of the provider: its table and the read that answers it."""

    model: ClassVar[Model]
    group: ClassVar[str]

    def problems(self, ctx: Context, args: Mapping[str, Any]) -> list[tuple[str, str]]:
        """What the provider lacks for this call, as ``(core field or "", reason)``."""
        return []

    @abstractmethod
    def call(self, ctx: Context, args: Mapping[str, Any]) -> dict[str, Any]:
        """The result under core names."""
