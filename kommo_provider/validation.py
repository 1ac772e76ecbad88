"""Field checks: each says what is wrong with one value, or nothing.

These are the rules, written once and named by the field tables (:mod:`kommo_provider.connection` and the
other resource modules). A reason says ``{got}`` where it shows the refused value; the model fills that in
as :func:`kommo_provider.model.describe` allows, or withholds it for a secret. Reasons are worded without
any front-end's names (no "argument", no "property", no ``kommo:`` key), so the dynamic resource, the
``kommo`` plugin and the CLI can each say where the value came from and how to set it.

Types are checked before these run (:class:`kommo_provider.model.Kind`), so a check sees a value of its
field's type; unknown values (Pulumi's preview placeholder) are never checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from .exceptions import ConfigurationError
from .hosts import resolve_base_url
from .model import GOT, render
from .payloads import HOOK_API_VERSIONS

UUID_EXAMPLE: Final = "f90ba33d-c9d9-44da-b76c-c349b0ecbe41"
# fullmatch, not match with `$`: `$` also matches before a trailing newline, and an id read with
# $(cat file) or from a YAML block scalar ends in one.
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

MAX_TITLE_CHARACTERS: Final = 255
"""Kommo shows the title as the channel's name in the account; longer titles are refused at preview."""
MAX_TRIGGERS: Final = 100
MAX_TRIGGER_CHARACTERS: Final = 1000

WHERE_FROM: Final[dict[str, str]] = {
    "channel_id": "the channel UUID Kommo support sent when the channel was registered",
    "channel_secret": "the channel secret Kommo support sent with the channel id",
    "account_id": "the account's amojo_id: GET https://<subdomain>.kommo.com/api/v4/account?with=amojo_id",
}
"""Where a required value comes from, for the front-ends' "is required" messages."""


def canonical_uuid(value: str) -> str:
    """UUIDs compare case-insensitively; the canonical form is lower case, as RFC 9562 prints them."""
    return value.lower()


def uuid_problem(value: Any) -> str | None:
    if isinstance(value, str) and _UUID.fullmatch(value):
        return None
    return f"must be a UUID string like {UUID_EXAMPLE!r}, got {GOT}"


def secret_problem(value: Any) -> str | None:
    # Never shows the value: it is the secret.
    if not isinstance(value, str):
        return f"must be a string, got a {type(value).__name__}"
    if not value:
        return "must not be empty"
    if value != value.strip():
        return "must be a string without surrounding whitespace (a trailing newline from a file, perhaps)"
    return None


def text_problem(value: str, *, limit: int) -> str | None:
    """A non-empty, single-line text of at most ``limit`` characters."""
    if not value.strip():
        return f"must be a non-empty string when given, got {GOT}"
    if len(value) > limit:
        return f"must be at most {limit} characters, got {len(value)} characters"
    if any(not char.isprintable() for char in value):
        return f"must be one line of printable characters, got {GOT}"
    return None


def title_problem(value: str) -> str | None:
    return text_problem(value, limit=MAX_TITLE_CHARACTERS)


def hook_api_version_problem(value: Any) -> str | None:
    if value in HOOK_API_VERSIONS:
        return None
    return f"must be 'v1' or 'v2' (Kommo documents 'v2'), got {GOT}"


def triggers_problem(value: list[Any]) -> str | None:
    if len(value) > MAX_TRIGGERS:
        return f"must hold at most {MAX_TRIGGERS} values, got {len(value)}"
    if any(isinstance(v, str) and len(v) > MAX_TRIGGER_CHARACTERS for v in value):
        return f"must hold values of at most {MAX_TRIGGER_CHARACTERS} characters each"
    return None


def refused_by(resolve: Callable[[Any], object]) -> Callable[[Any], str | None]:
    """A check from a function that takes a value apart and raises :class:`ConfigurationError` when it
    cannot (a host, a domain): the reason it gives, ``{got}`` and all."""

    def problem(value: Any) -> str | None:
        try:
            resolve(value)
        except ConfigurationError as exc:
            return exc.template
        return None

    return problem


base_url_problem = refused_by(resolve_base_url)


def check_uuid(field: str, value: Any) -> list[tuple[str, str]]:
    """The CLI's check of an id argument: ``[(field, reason)]`` or ``[]``."""
    problem = uuid_problem(value)
    return [(field, render(problem, value))] if problem else []
