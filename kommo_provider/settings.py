"""Transport settings (pacing, retries, timeouts) read from configuration, range-checked.

Both front-ends read the same four keys: the dynamic resource from stack config (``kommo:maxRetries``),
the ``kommo`` plugin from its provider configuration (``maxRetries``, which the default provider also
takes from ``kommo:maxRetries``). Values arrive as numbers or as the strings stack config holds; each
is checked against a range here, so ``nan``, ``inf``, negative or fractional values are refused with
the key and the allowed range instead of crashing later or being silently reinterpreted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from .model import GOT, Field, Kind, render

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
    description: str = ""

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
        description="Spaces requests to stay under Kommo's documented limit of 7 requests per second "
        "(default 7); 0 turns pacing off. From 0 to 1000.",
    ),
    Setting(
        "maxRetries",
        DEFAULT_RETRIES,
        0,
        20,
        whole=True,
        description="Retries on connection errors, read timeouts, 429 (honouring Retry-After, capped at "
        "30 s) and 5xx answers (default 8). From 0 to 20.",
    ),
    Setting(
        "connectTimeout",
        DEFAULT_CONNECT_TIMEOUT,
        0,
        120,
        low_inclusive=False,
        note=" seconds",
        description="Seconds to wait for a connection to Kommo (default 5; greater than 0, at most 120).",
    ),
    Setting(
        "readTimeout",
        DEFAULT_READ_TIMEOUT,
        0,
        600,
        low_inclusive=False,
        note=" seconds",
        description="Seconds to wait for an answer from Kommo (default 30; greater than 0, at most 600).",
    ),
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
    """The value as a float, or the reason it is not acceptable (``{got}`` standing for the value)."""
    refused = f"must be {setting.allowed()}, got {GOT}"
    if isinstance(raw, bool):
        return refused
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            return refused
    else:
        return refused
    too_low = value < setting.low if setting.low_inclusive else value <= setting.low
    fractional = setting.whole and not value.is_integer()
    if not math.isfinite(value) or too_low or value > setting.high or fractional:
        return refused
    return value


def _problem(setting: Setting) -> Callable[[Any], str | None]:
    def problem(raw: Any) -> str | None:
        parsed = _number(setting, raw)
        return parsed if isinstance(parsed, str) else None

    return problem


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


SETTING_FIELDS: Final = tuple(
    Field(
        _snake(s.key),
        Kind.INTEGER if s.whole else Kind.NUMBER,
        s.description,
        schema_name=s.key,
        check=_problem(s),
        config_key=f"kommo:{s.key}",
        text_in_config=True,
    )
    for s in SETTINGS
)
"""The settings as fields of the provider's configuration (numbers, or the text stack config holds)."""


def setting_value(key: str, raw: Any) -> float:
    """One setting's value from ``raw`` (a number or numeric text); ``ValueError`` with the range if not."""
    setting = next(s for s in SETTINGS if s.key == key)
    parsed = _number(setting, raw)
    if isinstance(parsed, str):
        raise ValueError(render(parsed, raw))
    return parsed


def parse_settings(
    get: Callable[[str], Any], *, secret: Callable[[str], bool] = lambda _key: False
) -> tuple[TransportSettings, list[tuple[str, str]]]:
    """Read each key with ``get`` (``None`` or ``""`` means the default).

    Returns the settings and a (key, reason) pair per refused value; a refused value keeps its default,
    and a value ``secret`` says was a secret is not shown in its reason.
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
            failures.append((setting.key, render(parsed, raw, secret=secret(setting.key))))
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
