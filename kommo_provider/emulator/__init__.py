"""A Kommo emulator, laid out like a moto service: amojo connect/disconnect and REST API v4 objects.

``amojo/`` is the Chat API and ``rest/`` the REST API v4 (each with ``models`` for state,
``responses`` for the HTTP operations, ``urls`` for routes), ``admin/`` the unsigned control routes,
``faults`` the injected failures, ``app`` the WSGI app that ties them together, and ``server`` the
loopback werkzeug server; its command line is ``kommo-chat emulator`` (:mod:`kommo_provider.cli.emulator`).
Names load with their module on first use (:mod:`.extra`): what serves no HTTP, such as the demo
identities and the fault kinds, imports without werkzeug, the ``emulator`` extra.

The ``DEMO_*`` constants are public on purpose, like moto's fake AWS credentials: the demo secret and
the demo token only open this emulator and are not real credentials, nor any printed in Kommo's docs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kommo_provider.emulator.extra import lazy_exports

if TYPE_CHECKING:
    from kommo_provider.emulator.amojo import (
        DEFAULT_CHANNEL_NAME,
        AmojoBackend,
        Connection,
        UnknownChannelError,
    )
    from kommo_provider.emulator.demo import (
        ACCESS_TOKEN_ENV,
        CHANNEL_SECRET_ENV,
        DEMO2_ACCESS_TOKEN,
        DEMO2_ACCOUNT,
        DEMO2_ACCOUNT_SUBDOMAIN,
        DEMO2_REST_ACCOUNT_ID,
        DEMO_ACCESS_TOKEN,
        DEMO_ACCOUNT,
        DEMO_ACCOUNT_IDS,
        DEMO_ACCOUNT_SUBDOMAIN,
        DEMO_ACCOUNTS,
        DEMO_BASE_URL,
        DEMO_CHANNEL_ID,
        DEMO_CHANNEL_SECRET,
        DEMO_INTEGRATION_ID,
        DEMO_PIPELINES,
        DEMO_PORT,
        DEMO_REST_ACCOUNT_ID,
    )
    from kommo_provider.emulator.faults import FAULT_KINDS, FaultPlan, RateLimiter
    from kommo_provider.emulator.ids import canonical_id
    from kommo_provider.emulator.requestlog import RecordedRequest, RequestLog
    from kommo_provider.emulator.rest import (
        DEFAULT_INTEGRATION_ID,
        EVENT_CODES,
        MAX_SOURCES_PER_INTEGRATION,
        Account,
        AccountSpec,
        Grant,
        Pipeline,
        RestBackend,
        Source,
        Status,
        UnknownObjectError,
        Webhook,
        mint_token,
        token_claims,
        token_expiry,
    )
    from kommo_provider.emulator.server import EmulatorServer

__all__ = [
    "ACCESS_TOKEN_ENV",
    "CHANNEL_SECRET_ENV",
    "DEFAULT_CHANNEL_NAME",
    "DEFAULT_INTEGRATION_ID",
    "DEMO2_ACCESS_TOKEN",
    "DEMO2_ACCOUNT",
    "DEMO2_ACCOUNT_SUBDOMAIN",
    "DEMO2_REST_ACCOUNT_ID",
    "DEMO_ACCESS_TOKEN",
    "DEMO_ACCOUNT",
    "DEMO_ACCOUNTS",
    "DEMO_ACCOUNT_IDS",
    "DEMO_ACCOUNT_SUBDOMAIN",
    "DEMO_BASE_URL",
    "DEMO_CHANNEL_ID",
    "DEMO_CHANNEL_SECRET",
    "DEMO_INTEGRATION_ID",
    "DEMO_PIPELINES",
    "DEMO_PORT",
    "DEMO_REST_ACCOUNT_ID",
    "EVENT_CODES",
    "FAULT_KINDS",
    "MAX_SOURCES_PER_INTEGRATION",
    "Account",
    "AccountSpec",
    "AmojoBackend",
    "Connection",
    "EmulatorServer",
    "FaultPlan",
    "Grant",
    "Pipeline",
    "RateLimiter",
    "RecordedRequest",
    "RequestLog",
    "RestBackend",
    "Source",
    "Status",
    "UnknownChannelError",
    "UnknownObjectError",
    "Webhook",
    "canonical_id",
    "mint_token",
    "token_claims",
    "token_expiry",
]

_load = lazy_exports(
    __name__,
    {
        ".amojo": ("DEFAULT_CHANNEL_NAME", "AmojoBackend", "Connection", "UnknownChannelError"),
        ".demo": (
            "ACCESS_TOKEN_ENV",
            "CHANNEL_SECRET_ENV",
            "DEMO2_ACCESS_TOKEN",
            "DEMO2_ACCOUNT",
            "DEMO2_ACCOUNT_SUBDOMAIN",
            "DEMO2_REST_ACCOUNT_ID",
            "DEMO_ACCESS_TOKEN",
            "DEMO_ACCOUNT",
            "DEMO_ACCOUNTS",
            "DEMO_ACCOUNT_IDS",
            "DEMO_ACCOUNT_SUBDOMAIN",
            "DEMO_BASE_URL",
            "DEMO_CHANNEL_ID",
            "DEMO_CHANNEL_SECRET",
            "DEMO_INTEGRATION_ID",
            "DEMO_PIPELINES",
            "DEMO_PORT",
            "DEMO_REST_ACCOUNT_ID",
        ),
        ".faults": ("FAULT_KINDS", "FaultPlan", "RateLimiter"),
        ".ids": ("canonical_id",),
        ".requestlog": ("RecordedRequest", "RequestLog"),
        ".rest": (
            "DEFAULT_INTEGRATION_ID",
            "EVENT_CODES",
            "MAX_SOURCES_PER_INTEGRATION",
            "Account",
            "AccountSpec",
            "Grant",
            "Pipeline",
            "RestBackend",
            "Source",
            "Status",
            "UnknownObjectError",
            "Webhook",
            "mint_token",
            "token_claims",
            "token_expiry",
        ),
        ".server": ("EmulatorServer",),
    },
)


def __getattr__(name: str) -> Any:
    """Each name loads with its module on first use: the parts without werkzeug import without it."""
    return _load(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
