"""Where the Chat API lives: named Kommo/amoCRM hosts and the rules for a custom base URL."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import SplitResult, urlsplit

from .exceptions import ConfigurationError
from .model import GOT

KOMMO: Final = "https://amojo.kommo.com"
AMOCRM_RU: Final = "https://amojo.amocrm.ru"
AMOCRM_COM: Final = "https://amojo.amocrm.com"

REGIONS: Final[dict[str, str]] = {
    "kommo": KOMMO,
    "amocrm.ru": AMOCRM_RU,
    "ru": AMOCRM_RU,
    "amocrm.com": AMOCRM_COM,
    "com": AMOCRM_COM,
}
"""Short names accepted wherever a base URL is: ``kommo`` (default), ``amocrm.ru``, ``amocrm.com``."""

DEFAULT_BASE_URL: Final = KOMMO

AROUND: Final = f"{GOT} has whitespace around it (a trailing newline, perhaps)"
"""A value read with $(cat file) or from a YAML block scalar: refused, as every other value is."""

_HOST_PORT: Final = re.compile(r"(\[[^\[\]]*\]|[^\[\]:]*)(:[^:]*)?")
"""``host[:port]`` or ``[ipv6][:port]``: urlsplit also takes ``[::1]junk`` and drops the junk."""


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any loopback address (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _non_ascii_hint(text: str) -> str:
    """Names the first non-ASCII character before the host, e.g. a full-width colon (U+FF1A) for ``:``."""
    head = text.partition("//")[0] if "//" in text else text
    for char in head:
        if not char.isascii():
            return f" (it contains the non-ASCII character {char!r}, U+{ord(char):04X}: retype it in ASCII)"
    return ""


def resolve_base_url(
    value: str | None,
    *,
    allow_insecure: bool = False,
    field: str = "base_url",
    regions: Mapping[str, str] = REGIONS,
    default: str = DEFAULT_BASE_URL,
) -> str:
    """Turn a region name or URL into a normalized base URL (scheme://host[:port], no trailing slash).

    Plain ``http://`` is allowed only for loopback hosts (the local emulator) unless ``allow_insecure``
    is set, because the signed headers would otherwise cross the network in clear text.

    Every malformed value raises :class:`ConfigurationError` naming ``field`` (never a bare
    ``ValueError`` from :mod:`urllib.parse`), so callers can report it as a bad input.
    """
    if value is None or not value.strip():
        return default
    if value != value.strip():
        raise ConfigurationError(field, AROUND, value)
    text = value
    if text.lower() in regions:
        return regions[text.lower()]
    choices = ", ".join(sorted(regions))
    not_a_url = (
        f"is neither a region ({choices}) nor an http(s) URL such as {KOMMO}"
        if regions
        else f"is not an http(s) URL such as {KOMMO}"
    )
    if any(char.isspace() or not char.isprintable() for char in text):
        # urlsplit silently deletes tabs and newlines inside a URL; refuse them instead.
        raise ConfigurationError(field, f"{GOT} contains whitespace or a control character", text)
    parts, hostname, port = _split(text, field, not_a_url)
    if parts.scheme == "http" and not allow_insecure and not is_loopback_host(hostname):
        raise ConfigurationError(
            field,
            f"{GOT} uses plain http to a non-loopback host; use https "
            "(plain http is accepted only for 127.0.0.1/localhost, e.g. the emulator)",
            text,
        )
    host = hostname if ":" not in hostname else f"[{hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _split(text: str, field: str, not_a_url: str) -> tuple[SplitResult, str, int | None]:
    """``scheme://host[:port]`` taken apart, or the reason it is not one."""
    bad_port = f"invalid port in {GOT}: give a number from 1 to 65535, or leave the port out"
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
        if not _HOST_PORT.fullmatch(parts.netloc.rpartition("@")[2]):
            raise ValueError("stray characters around the host")
    except ValueError as exc:  # an unclosed '[' or a bracketed host that is no IPv6 address
        raise ConfigurationError(
            field, f"{GOT} is not a valid URL; use scheme://host[:port], e.g. {KOMMO}", text
        ) from exc
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(field, f"{GOT} {not_a_url}{_non_ascii_hint(text)}", text)
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ConfigurationError(field, "use scheme://host[:port] only, without credentials or query")
    if not hostname:
        raise ConfigurationError(
            field, f"{GOT} has no host name; use scheme://host[:port], e.g. {KOMMO}", text
        )
    if parts.path not in ("", "/"):
        raise ConfigurationError(field, f"give the host only, without a path (got {GOT})", text)
    try:
        port = parts.port
    except ValueError as exc:  # not digits, or outside 0-65535
        raise ConfigurationError(field, bad_port, text) from exc
    if port == 0:
        raise ConfigurationError(field, bad_port, text)
    return parts, hostname, port


# -- the REST API v4: one host per account ------------------------------------------------------------

ACCOUNT_DOMAINS: Final = ("kommo.com", "amocrm.ru", "amocrm.com")
"""The base domains Kommo serves accounts under: ``<subdomain>.kommo.com`` and amoCRM's two."""
_SUBDOMAIN: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def resolve_account_domain(value: str, *, field: str = "account_domain") -> str:
    """The account's host, such as ``example.kommo.com``: a bare ``example`` means ``example.kommo.com``.

    Kommo's REST API is served per account at ``https://<subdomain>.kommo.com`` (or amoCRM's
    ``.amocrm.ru`` / ``.amocrm.com``) and never at ``www``; any other host goes in ``apiBaseUrl``.
    """
    example = "'example' or 'example.kommo.com'"
    if value != value.strip():
        raise ConfigurationError(field, AROUND, value)
    text = value.lower().rstrip(".")
    if "://" in text or "/" in text or ":" in text or "@" in text:
        raise ConfigurationError(field, f"give the account's host only, such as {example}, got {GOT}", value)
    subdomain, dot, base = text.partition(".")
    if dot and base not in ACCOUNT_DOMAINS:
        known = ", ".join(ACCOUNT_DOMAINS)
        raise ConfigurationError(
            field,
            f"must be an account of {known}, such as {example} (another host goes in apiBaseUrl), got {GOT}",
            value,
        )
    if not _SUBDOMAIN.fullmatch(subdomain) or subdomain == "www":
        raise ConfigurationError(
            field,
            f"must name the account's subdomain (letters, digits, hyphens), such as {example}, got {GOT}",
            value,
        )
    return f"{subdomain}.{base or ACCOUNT_DOMAINS[0]}"
