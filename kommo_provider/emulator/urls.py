"""Route table of the amojo emulator: URL path patterns with named groups -> handler names.

Handler names are methods of :class:`kommo_provider.emulator.responses.AmojoResponse` and carry the
API's operation names, as in a moto ``urls.py``. Patterns match the path only (no query string).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

API_PREFIX: Final = "/v2/origin/custom"
ADMIN_PREFIX: Final = "/_emulator"

url_paths: Final[Mapping[str, Mapping[str, str]]] = {
    # Any channel id matches, so an unknown one gets amojo's JSON 404 instead of an empty one.
    rf"^{API_PREFIX}/(?P<channel_id>[^/]+)/connect$": {"POST": "connect"},
    rf"^{API_PREFIX}/(?P<channel_id>[^/]+)/disconnect$": {"DELETE": "disconnect"},
}
"""The emulated Chat API operations: pattern -> {HTTP method: handler name}."""

admin_paths: Final[Mapping[str, Mapping[str, str]]] = {
    rf"^{ADMIN_PREFIX}/state$": {"GET": "get_state"},
    rf"^{ADMIN_PREFIX}/reset$": {"POST": "reset_state"},
    rf"^{ADMIN_PREFIX}/faults$": {"POST": "configure_faults"},
    rf"^{ADMIN_PREFIX}/channels$": {"POST": "add_channel"},
}
"""Unsigned control routes, like moto's ``/moto-api``: not logged, no faults, never a secret."""


@dataclass(frozen=True)
class Route:
    """One compiled pattern, its handlers by HTTP method, and whether it is a Chat API route."""

    pattern: re.Pattern[str]
    methods: Mapping[str, str]
    api: bool
    """API routes get the rate limiter, faults and the request log; admin routes do not."""


ROUTES: Final[tuple[Route, ...]] = (
    *(Route(re.compile(p), m, api=True) for p, m in url_paths.items()),
    *(Route(re.compile(p), m, api=False) for p, m in admin_paths.items()),
)


def match(path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``path`` and its named groups, or ``None`` (the caller answers 404)."""
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is not None:
            return route, found.groupdict()
    return None


def is_admin_path(path: str) -> bool:
    """Whether ``path`` is under the admin prefix (such requests are never logged)."""
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
