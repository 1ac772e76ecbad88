"""Where the Chat API lives: named Kommo/amoCRM hosts and the rules for a custom base URL."""

from __future__ import annotations

import ipaddress
from typing import Final
from urllib.parse import urlsplit

from .exceptions import ConfigurationError

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


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any loopback address (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(value: str | None, *, allow_insecure: bool = False, field: str = "base_url") -> str:
    """Turn a region name or URL into a normalized base URL (scheme://host[:port], no trailing slash).

    Plain ``http://`` is allowed only for loopback hosts (the local emulator) unless ``allow_insecure``
    is set, because the signed headers would otherwise cross the network in clear text.
    """
    if value is None or not value.strip():
        return DEFAULT_BASE_URL
    text = value.strip()
    if text.lower() in REGIONS:
        return REGIONS[text.lower()]
    parts = urlsplit(text)
    choices = ", ".join(sorted(REGIONS))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            field, f"{text!r} is neither a region ({choices}) nor an http(s) URL such as {KOMMO}"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError(field, "use scheme://host[:port] only, without credentials or query")
    if parts.path not in ("", "/"):
        raise ConfigurationError(field, f"give the host only, without a path (got path {parts.path!r})")
    if parts.scheme == "http" and not allow_insecure and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            field,
            f"{text!r} uses plain http to a non-loopback host; use https "
            "(plain http is accepted only for 127.0.0.1/localhost, e.g. the emulator)",
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(field, f"invalid port in {text!r}") from exc
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")
