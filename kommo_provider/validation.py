"""Input checks shared by the provider's ``check`` and the CLI: each returns (field, reason) pairs.

Unknown values (Pulumi's preview placeholder for outputs not computed yet) are skipped: they are
checked again once known, at ``up``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .exceptions import ConfigurationError
from .hosts import resolve_base_url
from .payloads import HOOK_API_VERSIONS

UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""What Pulumi sends for an input not known yet during preview (``pulumi.runtime.rpc.UNKNOWN``)."""

_UUID: Final = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

CONFIG_KEYS: Final[dict[str, str]] = {
    "channel_id": "kommo:channelId",
    "channel_secret": "kommo:channelSecret",
    "account_id": "kommo:accountId",
    "base_url": "kommo:baseUrl",
}
"""Stack config keys that stand in for a resource argument left out."""

WHERE_FROM: Final[dict[str, str]] = {
    "channel_id": "the channel UUID Kommo support sent when the channel was registered",
    "channel_secret": "the channel secret Kommo support sent with the channel id",
    "account_id": "the account's amojo_id: GET https://<subdomain>.kommo.com/api/v4/account?with=amojo_id",
}

Failure = tuple[str, str]


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def missing_reason(field: str) -> str:
    """The fix for a required value that was given neither as argument nor as stack config."""
    key = CONFIG_KEYS.get(field)
    if field == "channel_secret":
        # No value on the command line: `pulumi config set` prompts for it or reads it from stdin.
        how = f" or run `pulumi config set --secret {key}` (it prompts, or reads the value from stdin)"
    else:
        how = f" or run `pulumi config set {key} <value>`" if key else ""
    origin = f" ({WHERE_FROM[field]})" if field in WHERE_FROM else ""
    return f"is required: pass the {field} argument{how}{origin}"


def check_uuid(field: str, value: Any) -> list[Failure]:
    if value is None:
        return [(field, missing_reason(field))]
    if is_unknown(value):
        return []
    if not isinstance(value, str) or not _UUID.match(value):
        return [(field, f"must be a UUID string like 'f90ba33d-c9d9-44da-b76c-c349b0ecbe41', got {value!r}")]
    return []


def check_inputs(props: Mapping[str, Any]) -> list[Failure]:
    """Every problem with the connection inputs, one (field, reason) pair per field."""
    failures: list[Failure] = []
    failures += check_uuid("channel_id", props.get("channel_id"))
    failures += check_uuid("account_id", props.get("account_id"))

    secret = props.get("channel_secret")
    if secret is None or secret == "":
        failures.append(("channel_secret", missing_reason("channel_secret")))
    elif not is_unknown(secret) and (not isinstance(secret, str) or secret != secret.strip()):
        # Never echo the value: it is the secret.
        failures.append(("channel_secret", "must be a string without surrounding whitespace"))

    title = props.get("title")
    if title is not None and not is_unknown(title) and (not isinstance(title, str) or not title.strip()):
        failures.append(("title", f"must be a non-empty string when given, got {title!r}"))

    version = props.get("hook_api_version")
    if version is not None and not is_unknown(version) and version not in HOOK_API_VERSIONS:
        failures.append(("hook_api_version", f"must be 'v1' or 'v2' (Kommo documents 'v2'), got {version!r}"))

    window = props.get("is_time_window_disabled")
    if window is not None and not is_unknown(window) and not isinstance(window, bool):
        failures.append(("is_time_window_disabled", f"must be true or false, got {window!r}"))

    base_url = props.get("base_url")
    if base_url is not None and not is_unknown(base_url):
        if not isinstance(base_url, str):
            failures.append(("base_url", f"must be a string, got {base_url!r}"))
        else:
            try:
                resolve_base_url(base_url)
            except ConfigurationError as exc:
                failures.append(("base_url", exc.reason))
    return failures
