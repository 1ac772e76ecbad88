"""The Kommo REST API v4 half: account, pipelines, the objects an integration manages, bearer tokens.

``models`` holds the account objects, ``accounts`` the accounts and their tokens, ``collection`` the
generic store and CRUD every object type shares, one module per object type (``sources``,
``webhooks``, ...) its fields and rules, ``registry`` the list of them, ``backend`` the state,
``responses`` the HTTP operations, ``urls`` the routes, ``validation`` the shared shape checks,
``exceptions`` Kommo's problem+json errors, ``tokens`` the JWT-shaped long-lived tokens. Names load with
their module on first use, so ``models`` and ``tokens`` import without werkzeug
(:mod:`kommo_provider.emulator.extra`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kommo_provider.emulator.extra import lazy_exports

if TYPE_CHECKING:
    from kommo_provider.emulator.rest.accounts import (
        ACCESS_TOKEN_LIFETIME_SECONDS,
        DEFAULT_TOKEN_LIFETIME_SECONDS,
    )
    from kommo_provider.emulator.rest.backend import RestBackend
    from kommo_provider.emulator.rest.collection import Collection, ObjectType
    from kommo_provider.emulator.rest.models import (
        DEFAULT_INTEGRATION_ID,
        DEFAULT_PIPELINES,
        Account,
        AccountSpec,
        Grant,
        ObjectInput,
        Pipeline,
        Status,
        UnknownObjectError,
    )
    from kommo_provider.emulator.rest.registry import OBJECT_TYPES
    from kommo_provider.emulator.rest.responses import RestResponse
    from kommo_provider.emulator.rest.sources import MAX_SOURCES_PER_INTEGRATION, Source
    from kommo_provider.emulator.rest.tokens import mint_token, token_claims, token_expiry
    from kommo_provider.emulator.rest.webhooks import EVENT_CODES, Webhook

__all__ = [
    "ACCESS_TOKEN_LIFETIME_SECONDS",
    "DEFAULT_INTEGRATION_ID",
    "DEFAULT_PIPELINES",
    "DEFAULT_TOKEN_LIFETIME_SECONDS",
    "EVENT_CODES",
    "MAX_SOURCES_PER_INTEGRATION",
    "OBJECT_TYPES",
    "Account",
    "AccountSpec",
    "Collection",
    "Grant",
    "ObjectInput",
    "ObjectType",
    "Pipeline",
    "RestBackend",
    "RestResponse",
    "Source",
    "Status",
    "UnknownObjectError",
    "Webhook",
    "mint_token",
    "token_claims",
    "token_expiry",
]

_load = lazy_exports(
    __name__,
    {
        ".accounts": ("ACCESS_TOKEN_LIFETIME_SECONDS", "DEFAULT_TOKEN_LIFETIME_SECONDS"),
        ".backend": ("RestBackend",),
        ".collection": ("Collection", "ObjectType"),
        ".models": (
            "DEFAULT_INTEGRATION_ID",
            "DEFAULT_PIPELINES",
            "Account",
            "AccountSpec",
            "Grant",
            "ObjectInput",
            "Pipeline",
            "Status",
            "UnknownObjectError",
        ),
        ".registry": ("OBJECT_TYPES",),
        ".responses": ("RestResponse",),
        ".sources": ("MAX_SOURCES_PER_INTEGRATION", "Source"),
        ".tokens": ("mint_token", "token_claims", "token_expiry"),
        ".webhooks": ("EVENT_CODES", "Webhook"),
    },
)


def __getattr__(name: str) -> Any:
    """Each name loads with its module on first use."""
    return _load(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
