"""Kommo Chat API (amojo) under infrastructure as code: signing, client, emulator and Pulumi resource."""

from __future__ import annotations

from .auth import KommoSignatureAuth
from .client import ChannelCredentials, ChatApiClient
from .exceptions import (
    ChannelNotFoundError,
    ChatApiError,
    ConfigurationError,
    InvalidRequestError,
    KommoError,
    RateLimitedError,
    ServerError,
    SignatureRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from .payloads import ConnectRequest, ConnectResult
from .provider import KommoChatChannelConnectionProvider
from .resource import KommoChatChannelConnection
from .webhooks import verify_webhook, webhook_signature

__all__ = [
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
    "RateLimitedError",
    "ServerError",
    "SignatureRejectedError",
    "TransportError",
    "UnexpectedResponseError",
    "verify_webhook",
    "webhook_signature",
]
