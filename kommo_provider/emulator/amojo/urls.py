"""Route table of the amojo emulator: URL path patterns with named groups -> handler names.

Handler names are methods of :class:`~kommo_provider.emulator.amojo.responses.AmojoResponse` and
carry the API's operation names, as in a moto ``urls.py``. Patterns match the path only (no query).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

API_PREFIX: Final = "/v2/origin/custom"

url_paths: Final[Mapping[str, Mapping[str, str]]] = {
    # Any channel id matches, so an unknown one gets amojo's JSON 404 instead of an empty one.
    rf"^{API_PREFIX}/(?P<channel_id>[^/]+)/connect$": {"POST": "connect"},
    rf"^{API_PREFIX}/(?P<channel_id>[^/]+)/disconnect$": {"DELETE": "disconnect"},
}
"""The emulated Chat API operations: pattern -> {HTTP method: handler name}."""
