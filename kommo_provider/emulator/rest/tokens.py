"""Long-lived access tokens shaped as Kommo issues them: a JWT whose ``exp`` a client can read offline.

``header.payload.signature``, each part base64url without padding. The payload carries the claims a
Kommo long-lived token does (``aud`` = the integration id, ``account_id``, ``exp``...). The signature
is an HMAC under a public emulator key, not Kommo's RSA one: the emulator never verifies it, it looks
tokens up as registered, so any JWT-shaped string with an integer ``exp`` can be served.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any, Final

SIGNING_KEY: Final = b"kommo-emulator-public-token-key"
"""Public on purpose: it signs emulator tokens only, and nothing checks the signature."""

SCOPES: Final = ("crm", "files", "files_delete", "notifications", "push_notifications")


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def mint_token(
    *,
    account_id: int,
    integration_id: str,
    user_id: int,
    issued_at: int,
    expires_at: int,
    token_id: str,
) -> str:
    """A JWT-shaped long-lived token with Kommo's claims; deterministic for the same arguments."""
    header = {"typ": "JWT", "alg": "HS256"}
    payload = {
        "aud": integration_id,
        "jti": token_id,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": expires_at,
        "sub": str(user_id),
        "grant_type": "",
        "account_id": account_id,
        "base_domain": "kommo.com",
        "version": 2,
        "scopes": list(SCOPES),
    }
    signing_input = (
        _encode(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _encode(json.dumps(payload, separators=(",", ":")).encode())
    )
    signature = hmac.digest(SIGNING_KEY, signing_input.encode("ascii"), hashlib.sha256)
    return signing_input + "." + _encode(signature)


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT-shaped token; ``ValueError`` (never quoting the token) if it is not one."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError("an access token must be a JWT: three base64url parts joined by '.'")
    try:
        claims = json.loads(_decode(parts[1]))
    except (binascii.Error, ValueError):
        raise ValueError("the payload of the access token is not base64url-encoded JSON") from None
    if not isinstance(claims, dict):
        raise ValueError("the payload of the access token is not a JSON object")
    return claims


def token_expiry(token: str) -> int:
    """The ``exp`` claim (Unix seconds) of a JWT-shaped token; ``ValueError`` if it has none."""
    expires_at = token_claims(token).get("exp")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        raise ValueError("the access token has no integer exp claim (its expiry, in Unix seconds)")
    return expires_at
