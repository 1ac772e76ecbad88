"""Kommo's long-lived access tokens: their shape, and the expiry a client can read offline.

A private integration's long-lived token is a JWT (``header.payload.signature``, base64url) valid from
one day to five years, with its expiry in the ``exp`` claim. Nothing here verifies its signature (only
Kommo can); reading ``exp`` lets a preview refuse an expired token and warn before one expires, without
a request. No function here returns or repeats the token.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Final

EXPIRY_WARNING: Final = timedelta(days=14)
"""How long before its expiry a token is worth a warning: time to create the next one."""

WHERE_FROM: Final = (
    "a long-lived token: Kommo, Settings > Integrations > your private integration > Keys and scopes"
)


def _claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def expiry(token: str) -> datetime | None:
    """When the token expires (its ``exp`` claim, UTC), or ``None`` when it carries none."""
    claims = _claims(token)
    exp = claims.get("exp") if claims else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(exp, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def token_problem(value: Any, *, now: datetime | None = None) -> str | None:
    """What is wrong with an access token (never the token itself), or ``None``."""
    if not isinstance(value, str):
        return f"must be a string, got a {type(value).__name__}"
    if not value:
        return "must not be empty"
    if value != value.strip() or any(char.isspace() for char in value):
        return "must not contain whitespace (a trailing newline from a file, perhaps)"
    if value.lower().startswith("bearer"):
        return "must be the token alone, without 'Bearer'"
    if _claims(value) is None:
        return f"is not shaped like a Kommo long-lived token (a JWT of three parts); use {WHERE_FROM}"
    expires = expiry(value)
    if expires is None:
        return f"carries no expiry (an 'exp' claim), as Kommo's long-lived tokens do; use {WHERE_FROM}"
    if expires <= (now or datetime.now(timezone.utc)):
        return f"expired on {expires:%Y-%m-%d %H:%M} UTC: create a new one ({WHERE_FROM})"
    return None


def expiry_warning(token: str, *, now: datetime | None = None) -> str | None:
    """A warning when the token expires within :data:`EXPIRY_WARNING`, else ``None``."""
    expires = expiry(token)
    current = now or datetime.now(timezone.utc)
    if expires is None or expires <= current or expires - current > EXPIRY_WARNING:
        return None
    days = (expires - current).days
    return (
        f"the Kommo access token (accessToken) expires on {expires:%Y-%m-%d %H:%M} UTC, in {days} day(s): "
        f"create the next long-lived token before then ({WHERE_FROM})"
    )
