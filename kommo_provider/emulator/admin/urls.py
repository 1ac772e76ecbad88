"""Route table of the emulator's own control API, like moto's ``/moto-api``: unsigned, never logged.

Handler names are methods of :class:`~kommo_provider.emulator.admin.responses.AdminResponse`. No
faults apply here and no answer contains a channel secret or an access token, except the vendor
token service's, which stands for a vendor's own backend and answers a token on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kommo_provider.emulator.app import ADMIN_PREFIX

_DRIFT: Final = {"PATCH": "change_object", "DELETE": "remove_object"}

url_paths: Final[Mapping[str, Mapping[str, str]]] = {
    rf"^{ADMIN_PREFIX}/state$": {"GET": "get_state"},
    rf"^{ADMIN_PREFIX}/reset$": {"POST": "reset_state"},
    rf"^{ADMIN_PREFIX}/faults$": {"POST": "configure_faults"},
    rf"^{ADMIN_PREFIX}/channels$": {"POST": "add_channel"},
    rf"^{ADMIN_PREFIX}/accounts$": {"POST": "add_account"},
    rf"^{ADMIN_PREFIX}/tokens$": {"POST": "add_token"},
    rf"^{ADMIN_PREFIX}/tokens/rotate$": {"POST": "rotate_token"},
    # The vendor's token service (the one route that answers a token, on purpose).
    rf"^{ADMIN_PREFIX}/vendor-tokens/(?P<host>[A-Za-z0-9.-]{{1,253}})$": {"GET": "get_vendor_token"},
    # Out-of-band changes of any REST collection; /sources/{id} and /webhooks/{id} are older names.
    rf"^{ADMIN_PREFIX}/objects/(?P<collection>[a-z_]{{1,40}})/(?P<object_id>[0-9]{{1,18}})$": _DRIFT,
    rf"^{ADMIN_PREFIX}/(?P<collection>sources|webhooks)/(?P<object_id>[0-9]{{1,18}})$": _DRIFT,
}
"""Control operations: pattern -> {HTTP method: handler name}."""
