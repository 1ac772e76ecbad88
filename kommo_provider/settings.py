"""Transport settings (pacing, retries, timeouts) read from configuration, and one client per host.

Both front-ends read the same four keys: the dynamic resource from stack config (``kommo:maxRetries``),
the ``kommo`` plugin from its provider configuration (``maxRetries``, which the default provider also
takes from ``kommo:maxRetries``). Values arrive as numbers or as the strings stack config holds; each
is checked against a range here, so ``nan``, ``inf``, negative or fractional values are refused with
the key and the allowed range instead of crashing later or being silently reinterpreted.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # the client pulls in requests: imported on first use, not by the plugin's start-up
    from .client import ChatApiClient

DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 30.0
DEFAULT_MAX_REQUESTS_PER_SECOND: Final = 7.0
"""Kommo's documented API limit ("not more than 7 requests per second"); 0 or None disables pacing."""
DEFAULT_RETRIES: Final = 8


@dataclass(frozen=True)
class Setting:
    """One numeric key: its range, whether it must be whole, and what it means."""

    key: str
    default: float
    low: float
    high: float
    whole: bool = False
    low_inclusive: bool = True
    note: str = ""

    def allowed(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        if self.low_inclusive:
            span = f"from {self.low:g} to {self.high:g}"
        else:
            span = f"greater than {self.low:g} and at most {self.high:g}"
        return f"{kind} {span}{self.note}"


SETTINGS: Final = (
    Setting(
        "maxRequestsPerSecond",
        DEFAULT_MAX_REQUESTS_PER_SECOND,
        0,
        1000,
        note=" (0 turns pacing off; Kommo documents 7 requests per second)",
    ),
    Setting("maxRetries", DEFAULT_RETRIES, 0, 20, whole=True),
    Setting("connectTimeout", DEFAULT_CONNECT_TIMEOUT, 0, 120, low_inclusive=False, note=" seconds"),
    Setting("readTimeout", DEFAULT_READ_TIMEOUT, 0, 600, low_inclusive=False, note=" seconds"),
)
"""The keys, their defaults and ranges. Retries re-send one signature, valid 15 minutes: hence the caps."""

SETTING_KEYS: Final = tuple(s.key for s in SETTINGS)


@dataclass(frozen=True)
class TransportSettings:
    """How a client paces, retries and waits; hashable, so it keys the per-process client cache."""

    max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND
    max_retries: int = DEFAULT_RETRIES
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT


def _number(setting: Setting, raw: Any) -> float | str:
    """The value as a float, or the reason it is not acceptable."""
    if isinstance(raw, bool):
        return f"must be {setting.allowed()}, got {raw!r}"
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            return f"must be {setting.allowed()}, got {raw!r}"
    else:
        return f"must be {setting.allowed()}, got {raw!r}"
    too_low = value < setting.low if setting.low_inclusive else value <= setting.low
    fractional = setting.whole and not value.is_integer()
    if not math.isfinite(value) or too_low or value > setting.high or fractional:
        return f"must be {setting.allowed()}, got {raw!r}"
    return value


def setting_value(key: str, raw: Any) -> float:
    """One setting's value from ``raw`` (a number or numeric text); ``ValueError`` with the range if not."""
    setting = next(s for s in SETTINGS if s.key == key)
    parsed = _number(setting, raw)
    if isinstance(parsed, str):
        raise ValueError(parsed)
    return parsed


def parse_settings(get: Callable[[str], Any]) -> tuple[TransportSettings, list[tuple[str, str]]]:
    """Read each key with ``get`` (``None`` or ``""`` means the default).

    Returns the settings and a (key, reason) pair per refused value; a refused value keeps its default.
    """
    values: dict[str, float] = {}
    failures: list[tuple[str, str]] = []
    for setting in SETTINGS:
        raw = get(setting.key)
        if raw is None or raw == "":
            values[setting.key] = setting.default
            continue
        parsed = _number(setting, raw)
        if isinstance(parsed, str):
            failures.append((setting.key, parsed))
            values[setting.key] = setting.default
        else:
            values[setting.key] = parsed
    settings = TransportSettings(
        max_requests_per_second=values["maxRequestsPerSecond"],
        max_retries=int(values["maxRetries"]),
        connect_timeout=values["connectTimeout"],
        read_timeout=values["readTimeout"],
    )
    return settings, failures


_clients: dict[tuple[str, TransportSettings], ChatApiClient] = {}
_clients_lock = threading.Lock()


def client_for(base_url: str, settings: TransportSettings) -> ChatApiClient:
    """One client per host and settings in this process, so the pacer and connection pools are shared."""
    from .client import ChatApiClient

    key = (base_url, settings)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = ChatApiClient(
                base_url,
                connect_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
                retry=settings.max_retries,
                max_requests_per_second=settings.max_requests_per_second,
            )
            _clients[key] = client
        return client
