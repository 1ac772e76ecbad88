"""Route table of the emulator's own control API, like moto's ``/moto-api``: unsigned, never logged.

Handler names are methods of :class:`~kommo_provider.emulator.admin.responses.AdminResponse`. No
faults apply here and no answer ever contains a channel secret or an access token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kommo_provider.emulator.app import ADMIN_PREFIX

url_paths: Final[Mapping[str, Mapping[str, str]]] = {
    rf"^{ADMIN_PREFIX}/state$": {"GET": "get_state"},
    rf"^{ADMIN_PREFIX}/reset$": {"POST": "reset_state"},
    rf"^{ADMIN_PREFIX}/faults$": {"POST": "configure_faults"},
    rf"^{ADMIN_PREFIX}/channels$": {"POST": "add_channel"},
    rf"^{ADMIN_PREFIX}/accounts$": {"POST": "add_account"},
    rf"^{ADMIN_PREFIX}/tokens$": {"POST": "add_token"},
    rf"^{ADMIN_PREFIX}/sources/(?P<source_id>[0-9]{{1,18}})$": {
        "PATCH": "change_source",
        "DELETE": "remove_source",
    },
    rf"^{ADMIN_PREFIX}/webhooks/(?P<webhook_id>[0-9]{{1,18}})$": {
        "PATCH": "change_webhook",
        "DELETE": "remove_webhook",
    },
}
"""Control operations: pattern -> {HTTP method: handler name}."""
