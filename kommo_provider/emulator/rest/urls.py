"""Route table of the Kommo REST API v4 emulator: URL path patterns -> handler names by method.

Handler names are methods of :class:`~kommo_provider.emulator.rest.responses.RestResponse`, named
after the API's operations, as in a moto ``urls.py``. Each declared object type (:mod:`.registry`)
brings its collection route, its item route and any action routes; the ``collection`` group tells
the generic handlers which type a request is for. Patterns match the path only (no query).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from kommo_provider.emulator.rest.collection import ObjectType
from kommo_provider.emulator.rest.registry import OBJECT_TYPES

API_PREFIX: Final = "/api/v4"
OBJECT_ID: Final = r"(?P<object_id>[0-9]{1,18})"


def _object_routes(kind: ObjectType[Any]) -> dict[str, Mapping[str, str]]:
    """The routes of one object type: ``/<path>``, ``/<path>/{id}`` and ``/<path>/{id}<action>``."""
    base = rf"^{API_PREFIX}/(?P<collection>{re.escape(kind.path)})"
    routes: dict[str, Mapping[str, str]] = {rf"{base}$": kind.collection_routes}
    if kind.item_routes:
        routes[rf"{base}/{OBJECT_ID}$"] = kind.item_routes
    for action, methods in kind.actions.items():
        routes[rf"{base}/{OBJECT_ID}(?P<action>{re.escape(action)})$"] = dict.fromkeys(
            methods, "object_action"
        )
    return routes


url_paths: Final[Mapping[str, Mapping[str, str]]] = {
    rf"^{API_PREFIX}/account$": {"GET": "get_account"},
    rf"^{API_PREFIX}/leads/pipelines$": {"GET": "list_pipelines"},
    **{pattern: methods for kind in OBJECT_TYPES for pattern, methods in _object_routes(kind).items()},
    # Anything else under the prefix: Kommo's problem+json 404 rather than an empty one.
    rf"^{API_PREFIX}(?:/.*)?$": dict.fromkeys(("GET", "POST", "PATCH", "PUT", "DELETE"), "not_found"),
}
"""The emulated REST operations: pattern -> {HTTP method: handler name}."""
