"""Route table of the Kommo REST API v4 emulator: URL path patterns -> handler names by method.

Handler names are methods of :class:`~kommo_provider.emulator.rest.responses.RestResponse`, named
after the API's operations, as in a moto ``urls.py``. Patterns match the path only (no query).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

API_PREFIX: Final = "/api/v4"

url_paths: Final[Mapping[str, Mapping[str, str]]] = {
    rf"^{API_PREFIX}/account$": {"GET": "get_account"},
    rf"^{API_PREFIX}/leads/pipelines$": {"GET": "list_pipelines"},
    rf"^{API_PREFIX}/sources$": {
        "GET": "list_sources",
        "POST": "create_sources",
        "PATCH": "update_sources",
        "DELETE": "delete_sources",
    },
    rf"^{API_PREFIX}/sources/(?P<source_id>[0-9]{{1,18}})$": {
        "GET": "get_source",
        "PATCH": "update_source",
        "DELETE": "delete_source",
    },
    rf"^{API_PREFIX}/webhooks$": {
        "GET": "list_webhooks",
        "POST": "subscribe_webhook",
        "DELETE": "unsubscribe_webhook",
    },
    # Anything else under the prefix: Kommo's problem+json 404 rather than an empty one.
    rf"^{API_PREFIX}(?:/.*)?$": dict.fromkeys(("GET", "POST", "PATCH", "PUT", "DELETE"), "not_found"),
}
"""The emulated REST operations: pattern -> {HTTP method: handler name}."""
