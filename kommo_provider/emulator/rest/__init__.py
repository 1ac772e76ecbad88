"""The Kommo REST API v4 half of the emulator: account, pipelines, sources, webhooks, bearer tokens.

``models`` holds the objects, ``accounts`` and ``backend`` the state and rules, ``responses`` the
HTTP operations, ``urls`` the routes, ``validation`` the field shape checks, ``exceptions`` Kommo's
problem+json errors, ``tokens`` the JWT-shaped long-lived tokens.
"""

from __future__ import annotations

from kommo_provider.emulator.rest.accounts import DEFAULT_TOKEN_LIFETIME_SECONDS
from kommo_provider.emulator.rest.backend import RestBackend
from kommo_provider.emulator.rest.models import (
    DEFAULT_INTEGRATION_ID,
    DEFAULT_PIPELINES,
    MAX_SOURCES_PER_INTEGRATION,
    Account,
    AccountSpec,
    Grant,
    Pipeline,
    Source,
    Status,
    UnknownObjectError,
    Webhook,
)
from kommo_provider.emulator.rest.responses import RestResponse
from kommo_provider.emulator.rest.tokens import mint_token, token_claims, token_expiry
from kommo_provider.emulator.rest.validation import EVENT_CODES

__all__ = [
    "DEFAULT_INTEGRATION_ID",
    "DEFAULT_PIPELINES",
    "DEFAULT_TOKEN_LIFETIME_SECONDS",
    "EVENT_CODES",
    "MAX_SOURCES_PER_INTEGRATION",
    "Account",
    "AccountSpec",
    "Grant",
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
