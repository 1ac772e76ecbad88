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
from .hosts import resolve_account_domain, resolve_base_url
from .model import Change, Field, Kind, Model
from .settings import SETTING_FIELDS
from .tokens import WHERE_FROM as TOKEN_WHERE_FROM
from .tokens import token_problem
from .validation import refused_by

CHAT: Final = "chat"
"""The group the Chat API (amojo) needs: a channel id and its secret, and the host."""
REST: Final = "rest"
"""The group the REST API v4 needs: the account's host and a long-lived token."""


def _api_base_url(value: str) -> str:
    return resolve_base_url(value, regions={})


ACCOUNT_DOMAIN: Final = Field(
    "account_domain",
    Kind.STRING,
    "The Kommo account's host for the REST API v4, such as `example.kommo.com` or `example.amocrm.ru`; "
    "a bare `example` means `example.kommo.com`. Changing it replaces every source and webhook made "
    "through the provider.",
    change=Change.REPLACE,
    check=refused_by(resolve_account_domain),
    canonical=resolve_account_domain,
    config_key="kommo:accountDomain",
    where_from="the account's address in Kommo, such as example.kommo.com",
)
ACCESS_TOKEN: Final = Field(
    "access_token",
    Kind.STRING,
    "A long-lived access token of the account's private integration (a JWT, valid from one day to five "
    "years): it signs every REST API v4 call. Always stored as a secret. The provider reads its expiry "
    "offline: an expired token fails at preview, one that expires within 14 days gives a warning.",
    secret=True,
    check=token_problem,
    config_key="kommo:accessToken",
    where_from=TOKEN_WHERE_FROM,
)
API_BASE_URL: Final = Field(
    "api_base_url",
    Kind.STRING,
    "Where the REST API v4 lives instead of `https://<accountDomain>`: an https URL, or plain http to "
    "127.0.0.1/localhost, such as the kommo-chat emulator. Changing it replaces every source and webhook "
    "made through the provider.",
    change=Change.REPLACE,
    check=refused_by(_api_base_url),
    config_key="kommo:apiBaseUrl",
)


@dataclass(frozen=True)
class Group:
    """Fields a kind of resource needs together, and the words for what it is."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    what: str


GROUPS: Final = {
    CHAT: Group(CHAT, ("channel_id", "channel_secret"), ("base_url",), "the Chat API (connections)"),
    REST: Group(
        REST,
        ("account_domain", "access_token"),
        ("api_base_url",),
        "Kommo's REST API v4 (getAccount, getPipelines, sources, webhooks)",
    ),
}

PROVIDER: Final = Model(
    "pulumi:providers:kommo",
    "The Kommo provider: one custom chat channel (its id and secret) at one Chat API host, and one "
    "Kommo account (its host and a long-lived token) for the REST API v4. Either group may be left out: "
    "a resource that needs a group the provider lacks fails at preview, naming what to set. Declare one "
    "explicit provider per channel or account to use several from one stack; the default provider reads "
    "`kommo:channelId`, `kommo:channelSecret`, `kommo:baseUrl`, `kommo:accountDomain`, "
    "`kommo:accessToken` and `kommo:apiBaseUrl` from stack config.\n\n"
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
        ACCOUNT_DOMAIN,
        ACCESS_TOKEN,
        API_BASE_URL,
        *SETTING_FIELDS,
    ),
)


def group_of(field: Field) -> str | None:
    """The group a configuration field belongs to, if any."""
    for group in GROUPS.values():
        if field.name in group.required + group.optional:
            return group.name
    return None
