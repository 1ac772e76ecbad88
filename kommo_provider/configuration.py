"""The ``kommo`` provider's configuration, declared once: the chat channel, and how to talk to Kommo.

The same table is the provider's ``inputProperties`` and the default provider's stack config keys
(``kommo:channelId``...) in ``schema.json``, the plugin's CheckConfig and DiffConfig, and the dynamic
resource's transport settings. Fields come in groups: a resource needs its group complete and fails at
preview, naming what to set, when it is not; a stack that uses only one group leaves the other out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from .connection import BASE_URL, CHANNEL_ID, CHANNEL_SECRET
from .model import Field, Model
from .settings import SETTING_FIELDS

CHAT: Final = "chat"
"""The group the Chat API (amojo) needs: a channel id and its secret, and the host."""


@dataclass(frozen=True)
class Group:
    """Fields a kind of resource needs together, and the words for what it is."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    what: str


GROUPS: Final = {
    CHAT: Group(CHAT, ("channel_id", "channel_secret"), ("base_url",), "the Chat API (connections)"),
}

PROVIDER: Final = Model(
    "pulumi:providers:kommo",
    "The Kommo provider: one custom chat channel (its id and secret) at one Chat API host. Declare one "
    "explicit provider per channel to connect accounts to several channels from one stack; the default "
    "provider reads `kommo:channelId`, `kommo:channelSecret` and `kommo:baseUrl` from stack config.\n\n"
    "A different `channelId` or `baseUrl` replaces every connection made through the provider (for a new "
    "host, each old connection is disconnected first); a rotated `channelSecret` reconnects them in place, "
    "and later disconnects are signed with the new secret.",
    (
        replace(CHANNEL_ID, required=False, stable=False),
        replace(
            CHANNEL_SECRET,
            required=False,
            description=CHANNEL_SECRET.description
            + " Set it with `pulumi config set --secret kommo:channelSecret` (it prompts, or reads "
            "standard input).",
        ),
        replace(BASE_URL, stable=False),
        *SETTING_FIELDS,
    ),
)


def group_of(field: Field) -> str | None:
    """The group a configuration field belongs to, if any."""
    for group in GROUPS.values():
        if field.name in group.required + group.optional:
            return group.name
    return None
