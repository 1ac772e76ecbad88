"""Kommo Chat API (amojo) under infrastructure as code: signing, client, emulator and Pulumi resource.

Names are imported on first use (PEP 562), so ``import kommo_provider.signing`` or the plugin process
do not pay for Pulumi's dynamic-provider machinery they never touch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.4.0"
"""The package version; the plugin, its schema and the generated SDKs carry it too."""

if TYPE_CHECKING:
    from .auth import KommoSignatureAuth
    from .client import ChatApiClient
    from .exceptions import (
        ApiError,
        ChannelNotFoundError,
        ChatApiError,
        ConfigurationError,
        InvalidRequestError,
        KommoError,
        ObjectNotFoundError,
        RateLimitedError,
        RestApiError,
        ServerError,
        SignatureRejectedError,
        TokenRejectedError,
        TransportError,
        UnexpectedResponseError,
    )
    from .payloads import ChannelCredentials, ConnectRequest, ConnectResult
    from .provider import KommoChatChannelConnectionProvider
    from .resource import KommoChatChannelConnection
    from .rest import RestApiClient
    from .webhooks import verify_webhook, webhook_signature

_WHERE = {
    "ApiError": "exceptions",
    "ObjectNotFoundError": "exceptions",
    "RestApiError": "exceptions",
    "RestApiClient": "rest",
    "TokenRejectedError": "exceptions",
    "KommoSignatureAuth": "auth",
    "ChannelCredentials": "payloads",
    "ChatApiClient": "client",
    "ChannelNotFoundError": "exceptions",
    "ChatApiError": "exceptions",
    "ConfigurationError": "exceptions",
    "InvalidRequestError": "exceptions",
    "KommoError": "exceptions",
    "RateLimitedError": "exceptions",
    "ServerError": "exceptions",
    "SignatureRejectedError": "exceptions",
    "TransportError": "exceptions",
    "UnexpectedResponseError": "exceptions",
    "ConnectRequest": "payloads",
    "ConnectResult": "payloads",
    "KommoChatChannelConnectionProvider": "provider",
    "KommoChatChannelConnection": "resource",
    "verify_webhook": "webhooks",
    "webhook_signature": "webhooks",
}

__all__ = [
    "ApiError",
    "ChannelCredentials",
    "ChannelNotFoundError",
    "ChatApiClient",
    "ChatApiError",
    "ConfigurationError",
    "ConnectRequest",
    "ConnectResult",
    "InvalidRequestError",
    "KommoChatChannelConnection",
    "KommoChatChannelConnectionProvider",
    "KommoError",
    "KommoSignatureAuth",
    "ObjectNotFoundError",
    "RateLimitedError",
    "RestApiClient",
    "RestApiError",
    "ServerError",
    "SignatureRejectedError",
    "TokenRejectedError",
    "TransportError",
    "UnexpectedResponseError",
    "verify_webhook",
    "webhook_signature",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'kommo_provider' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
