"""Pure functions that build and check the amojo request signature.

Kommo's Chat API authenticates every request with four headers (``Date``, ``Content-Type``,
``Content-MD5``, ``X-Signature``). Each stage of that scheme is one function here that returns a
plain string, so the published test vectors can pin every stage and a mismatch names the stage
that differs. Nothing in this module reads the clock or does I/O: the time is an argument.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import urlsplit

CONTENT_TYPE_JSON: Final = "application/json"
"""The only Content-Type amojo accepts; it is signed verbatim, so no ``; charset=`` suffix."""

HEADER_DATE: Final = "Date"
HEADER_CONTENT_TYPE: Final = "Content-Type"
HEADER_CONTENT_MD5: Final = "Content-MD5"
HEADER_SIGNATURE: Final = "X-Signature"
SIGNING_HEADERS: Final = (HEADER_DATE, HEADER_CONTENT_TYPE, HEADER_CONTENT_MD5, HEADER_SIGNATURE)

SIGNATURE_LIFETIME_SECONDS: Final = 15 * 60
"""A signature is valid for 15 minutes from its ``Date`` header (Kommo "Authorization and headers")."""

EMPTY_BODY_MD5: Final = "d41d8cd98f00b204e9800998ecf8427e"

_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_last_date: tuple[int, str] = (-1, "")


def encode_json(payload: Any) -> bytes:
    """Serialize ``payload`` once into the exact bytes that are hashed and sent.

    Compact separators, raw UTF-8 (no ``\\uXXXX`` escapes) and no trailing newline: amojo hashes the
    bytes it receives, so any stable form works as long as the same bytes are hashed and sent.
    """
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def body_md5(body: bytes) -> str:
    """``Content-MD5`` as amojo wants it: lowercase hex of the raw body bytes (not RFC 1864 base64)."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def http_date(now: datetime) -> str:
    """RFC 2822 date with a numeric zone, e.g. ``Thu, 29 Oct 2020 11:59:55 +0000``.

    ``now`` must be timezone-aware; it is converted to UTC so the zone is always ``+0000``, the form
    every Kommo example shows.
    """
    global _last_date
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(timezone.utc))")
    # Signing runs per request and the text changes once a second: keep the last one.
    second = math.floor(now.timestamp())
    cached = _last_date  # one read of an immutable tuple: safe across threads
    if cached[0] == second:
        return cached[1]
    t = datetime.fromtimestamp(second, timezone.utc)
    text = (
        f"{_WEEKDAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} +0000"
    )
    _last_date = (second, text)
    return text


def parse_http_date(value: str) -> datetime:
    """Parse an RFC 2822 ``Date`` header into an aware UTC datetime; ``ValueError`` if it is not one."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"not an RFC 2822 date: {value!r}") from exc
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(f"RFC 2822 date without a time zone: {value!r}")
    return parsed.astimezone(timezone.utc)


def signing_path(url: str) -> str:
    """The part of a URL that is signed: the path only, without scheme, host or query string."""
    if url.startswith("/"):
        return url.partition("?")[0].partition("#")[0]
    return urlsplit(url).path or "/"


def string_to_sign(method: str, content_md5: str, content_type: str, date: str, path: str) -> str:
    """Join the header values in Kommo's fixed order with ``\\n`` (no trailing newline)."""
    return "\n".join((method.upper(), content_md5, content_type, date, path))


def signature(secret: str, message: str) -> str:
    """Lowercase hex HMAC-SHA1 of ``message`` keyed by the channel secret."""
    return hmac.digest(secret.encode("utf-8"), message.encode("utf-8"), "sha1").hex()


def signed_headers(
    secret: str,
    method: str,
    path: str,
    body: bytes,
    now: datetime,
    content_type: str = CONTENT_TYPE_JSON,
) -> dict[str, str]:
    """The four amojo headers for one request. ``path`` may be a full URL; its query is dropped."""
    return signed_headers_for_date(secret, method, path, body, http_date(now), content_type)


def signed_headers_for_date(
    secret: str,
    method: str,
    path: str,
    body: bytes,
    date: str,
    content_type: str = CONTENT_TYPE_JSON,
) -> dict[str, str]:
    """Like :func:`signed_headers`, with the ``Date`` header text given verbatim (any zone offset).

    ``date`` is signed and returned exactly as given, e.g. ``Tue, 14 Nov 2023 09:05:00 +0300``; the
    caller checks that it is an RFC 2822 date (see :func:`parse_http_date`).
    """
    md5 = body_md5(body)
    sts = string_to_sign(method, md5, content_type, date, signing_path(path))
    return {
        HEADER_DATE: date,
        HEADER_CONTENT_TYPE: content_type,
        HEADER_CONTENT_MD5: md5,
        HEADER_SIGNATURE: signature(secret, sts),
    }


def signatures_match(expected: str, received: str) -> bool:
    """Constant-time comparison of two hex signatures (case-insensitive, as hex is)."""
    return hmac.compare_digest(
        expected.lower().encode("ascii", "replace"), received.strip().lower().encode("ascii", "replace")
    )


def signature_bytes(secret: str, data: bytes) -> str:
    """Lowercase hex HMAC-SHA1 of raw bytes (webhooks sign the body alone)."""
    return hmac.digest(secret.encode("utf-8"), data, "sha1").hex()
