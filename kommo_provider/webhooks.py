"""Verify the X-Signature of chat webhooks that Kommo sends to an integration.

Both functions refuse an empty (or missing) channel secret with ``ValueError``: an HMAC keyed with
the empty string is one anybody can compute, so a service whose secret variable is unset would
otherwise accept forged webhooks without a word. Wrong argument types raise ``TypeError`` naming
the argument, never ``AttributeError``.
"""

from __future__ import annotations

from typing import Any

from . import signing


def _check_secret(secret: Any) -> str:
    if secret is None or (isinstance(secret, str) and not secret):
        raise ValueError(
            "secret: the channel secret is empty or None (is its environment variable unset?); "
            "refusing to use it, since anyone can sign a webhook with an empty key"
        )
    if not isinstance(secret, str):
        raise TypeError(f"secret: the channel secret must be a str, got {type(secret).__name__}")
    return secret


def _check_body(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        raise TypeError(
            "body: pass the raw request body bytes exactly as received (e.g. await request.body()), "
            "not str: decoding and re-encoding can change the bytes that were signed"
        )
    raise TypeError(f"body: must be the raw request body as bytes, got {type(body).__name__}")


def webhook_signature(secret: str, body: bytes | bytearray | memoryview) -> str:
    """Lowercase hex HMAC-SHA1 of the raw webhook body, keyed by the channel secret.

    ``ValueError`` if ``secret`` is empty or None; ``TypeError`` if ``body`` is not bytes-like.
    """
    return signing.signature_bytes(_check_secret(secret), _check_body(body))


def verify_webhook(
    secret: str,
    body: bytes | bytearray | memoryview,
    received_signature: str | bytes | bytearray | memoryview | None,
) -> bool:
    """True when ``received_signature`` is the HMAC-SHA1 of ``body`` (constant-time compare).

    Hash the raw bytes exactly as received: parsing and re-serializing the JSON, or trimming a
    trailing newline, changes the digest. The signature may be given as ``str`` or as the raw header
    ``bytes`` an ASGI server hands over; a missing or empty one is invalid (``False``).

    Raises ``ValueError`` for an empty or None ``secret`` (a configuration error, not a bad
    webhook), and ``TypeError`` for a ``str`` body or a signature that is neither str nor bytes.
    """
    expected = webhook_signature(secret, body)
    if received_signature is None:
        return False
    if isinstance(received_signature, (bytes, bytearray, memoryview)):
        try:
            received = bytes(received_signature).decode("ascii")
        except UnicodeDecodeError:
            return False  # hex is ASCII: anything else cannot match
    elif isinstance(received_signature, str):
        received = received_signature
    else:
        raise TypeError(
            "received_signature: must be the X-Signature header value as str or bytes, "
            f"got {type(received_signature).__name__}"
        )
    if not received:
        return False
    return signing.signatures_match(expected, received)
