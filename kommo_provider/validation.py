"""Field checks for connection inputs: each says what is wrong with one value, or nothing.

These are the rules, written once. The reasons are worded without any front-end's names (no
"argument", no "property", no ``kommo:`` key), so the dynamic resource, the ``kommo`` plugin and the
CLI can each say where the value came from and how to set it.

Unknown values (Pulumi's preview placeholder for outputs not computed yet) are skipped: they are
checked again once known, at ``up``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from .exceptions import ConfigurationError
from .hosts import resolve_base_url
from .payloads import HOOK_API_VERSIONS

UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""What Pulumi sends for an input not known yet during preview (``pulumi.runtime.rpc.UNKNOWN``)."""

UUID_EXAMPLE: Final = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
# fullmatch, not match with `$`: `$` also matches before a trailing newline, and an id read with
# $(cat file) or from a YAML block scalar ends in one.
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

_SECRET_SHAPE: Final = re.compile(r"[0-9a-fA-F]{40}")
"""What Kommo's channel secrets look like (40 hex digits, as every published example)."""

WHERE_FROM: Final[dict[str, str]] = {
    "channel_id": "the channel UUID Kommo support sent when the channel was registered",
    "channel_secret": "the channel secret Kommo support sent with the channel id",
    "account_id": "the account's amojo_id: GET https://<subdomain>.kommo.com/api/v4/account?with=amojo_id",
}
"""Where a required value comes from, for the front-ends' "is required" messages."""

Failure = tuple[str, str]
"""(field, reason): the field's core (snake_case) name and what is wrong, never the secret."""


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def uuid_problem(value: Any) -> str | None:
    if isinstance(value, str) and _UUID.fullmatch(value):
        return None
    if isinstance(value, str) and _SECRET_SHAPE.fullmatch(value.strip()):
        # Shaped like a channel secret, pasted into the wrong place: do not repeat it.
        got = "a 40-character hex string, which looks like a channel secret (not repeated here)"
    else:
        got = repr(value)
    return f"must be a UUID string like {UUID_EXAMPLE!r}, got {got}"


def secret_problem(value: Any) -> str | None:
    # Never echo the value: it is the secret.
    if not isinstance(value, str):
        return f"must be a string, got a {type(value).__name__}"
    if not value:
        return "must not be empty"
    if value != value.strip():
        return "must be a string without surrounding whitespace (a trailing newline from a file, perhaps)"
    return None


def title_problem(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f"must be a non-empty string when given, got {value!r}"


def hook_api_version_problem(value: Any) -> str | None:
    if value in HOOK_API_VERSIONS:
        return None
    return f"must be 'v1' or 'v2' (Kommo documents 'v2'), got {value!r}"


def bool_problem(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def base_url_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {value!r}"
    try:
        resolve_base_url(value)
    except ConfigurationError as exc:
        return exc.reason
    return None


FIELD_CHECKS: Final[dict[str, Callable[[Any], str | None]]] = {
    "channel_id": uuid_problem,
    "channel_secret": secret_problem,
    "account_id": uuid_problem,
    "title": title_problem,
    "hook_api_version": hook_api_version_problem,
    "is_time_window_disabled": bool_problem,
    "base_url": base_url_problem,
}
"""The check for each field that has one; ``reconnect_triggers`` takes any value."""


def check_uuid(field: str, value: Any) -> list[Failure]:
    """The CLI's check of an id argument: ``[(field, reason)]`` or ``[]``."""
    problem = uuid_problem(value)
    return [(field, problem)] if problem else []
