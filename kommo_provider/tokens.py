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
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Final

_WHITESPACE: Final = re.compile(r"\s")
"""Any whitespace: searched in C, as a fleet's provider checks a thousand tokens at each start."""

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


def token_text_problem(value: str) -> str | None:
    """What is wrong with a token's text, whatever kind of token (never the token itself), or ``None``."""
    if not value:
        return "is empty"
    if _WHITESPACE.search(value):
        return "contains whitespace"
    if value.lower().startswith("bearer"):
        return "starts with 'Bearer' (give the token alone)"
    return None


def token_expired(token: str, *, now: datetime | None = None) -> str | None:
    """``"expired on ..."`` for a JWT whose ``exp`` has passed, else ``None`` (never the token)."""
    expires = expiry(token)
    if expires is not None and expires <= (now or datetime.now(timezone.utc)):
        return f"expired on {expires:%Y-%m-%d %H:%M} UTC"
    return None


BEARER_TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
"""A bearer token's characters (RFC 6750 section 2.1): what may follow ``Bearer`` in a header."""


def read_token_answer(text: str) -> tuple[str, float | None]:
    """The token and its expiry (unix seconds, when known) of a token source's answer: the token alone,
    or JSON ``{"accessToken": ..., "expiresAt": <unix seconds or RFC 3339 with a zone>}``. ``ValueError``
    saying what is wrong, never quoting the token. A tokenCommand's output and a token service's answer
    are read alike (:mod:`kommo_provider.plugin.credentials`, ``kommo-chat token``)."""
    text = text.strip()
    if not text:
        raise ValueError("it is empty")
    expires_at: float | None = None
    if text.startswith("{"):
        token, expires_at = _token_json(text)
    else:
        token = text
    if not BEARER_TOKEN.fullmatch(token):
        problem = token_text_problem(token) or "has characters a bearer token cannot have"
        raise ValueError(f"the token {problem}")
    if expires_at is None:
        found = expiry(token)
        expires_at = found.timestamp() if found is not None else None
    return token, expires_at


def _token_json(text: str) -> tuple[str, float | None]:
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise ValueError("it starts with '{' but is not JSON") from None
    token = data.get("accessToken") if isinstance(data, dict) else None
    if not isinstance(token, str):
        raise ValueError('its JSON has no "accessToken" string')
    raw = data.get("expiresAt")
    if raw is None:
        return token, None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw) and raw > 0:
        return token, float(raw)
    moment = rfc3339(raw) if isinstance(raw, str) else None
    if moment is None:
        raise ValueError('its "expiresAt" is neither unix seconds nor an RFC 3339 time with a zone')
    return token, moment.timestamp()


def rfc3339(text: str) -> datetime | None:
    """An RFC 3339 time (``2030-01-01T00:00:00Z``, ``...+03:00``); ``None`` if not one or without a zone."""
    try:
        moment = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
