"""Verify the X-Signature of chat webhooks that Kommo sends to an integration."""

from __future__ import annotations

from . import signing


def webhook_signature(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA1 of the raw webhook body, keyed by the channel secret."""
    return signing.signature_bytes(secret, body)


def verify_webhook(secret: str, body: bytes, received_signature: str | None) -> bool:
    """True when ``received_signature`` is the HMAC-SHA1 of ``body`` (constant-time compare).

    Hash the raw bytes exactly as received: parsing and re-serializing the JSON, or trimming a
    trailing newline, changes the digest.
    """
    if not received_signature:
        return False
    return signing.signatures_match(webhook_signature(secret, body), received_signature)
