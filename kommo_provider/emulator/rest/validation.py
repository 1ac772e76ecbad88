"""Shape checks every REST object type shares: integers, strings, http(s) URLs, and a field reader.

Checks collect :class:`~.exceptions.FieldError` lists instead of raising, so one answer lists every
problem of every item, as Kommo's ``validation-errors`` do. Each detail names the fix. What one object
type alone accepts (a source's services, a webhook's event codes) lives with that type
(:mod:`.sources`, :mod:`.webhooks`, and the others :mod:`.registry` lists).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from kommo_provider.emulator.rest.exceptions import FIELD_MISSING, INVALID_TYPE, INVALID_VALUE, FieldError


def is_integer(value: Any) -> bool:
    """A JSON integer (JSON booleans decode to ``bool``, an ``int`` subclass, and are not integers)."""
    return isinstance(value, int) and not isinstance(value, bool)


def not_blank(name: str) -> Callable[[str], str]:
    """A text check refusing an empty or all-space value."""
    return lambda value: "" if value.strip() else f"{name} must not be empty"


def url_problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not an http(s) URL with a host (the detail names ``name``), or ``None``."""
    if not isinstance(value, str) or not value:
        return f"{name} is required: an http(s) URL"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        return f"{name} must be an http(s) URL with a host, e.g. https://example.com/hook"
    return None


class FieldReader:
    """Reads the recognised fields of one request object, collecting their problems path-prefixed.

    ``path`` prefixes error paths (``"0."`` for the first item of an array body, ``""`` for an object
    body); ``creating`` makes the fields marked ``required`` required. Unknown keys are ignored, as
    Kommo ignores them. :attr:`fields` holds only the fields given and valid.
    """

    def __init__(self, payload: Mapping[str, Any], path: str, *, creating: bool) -> None:
        self.payload = payload
        self.path = path
        self.creating = creating
        self.fields: dict[str, Any] = {}
        self.errors: list[FieldError] = []

    def error(self, code: str, where: str, detail: str) -> None:
        """Record a problem at ``where`` (relative to the object, e.g. ``name`` or ``buttons.0.url``)."""
        self.errors.append(FieldError(code, self.path + where, detail))

    def present(self, name: str, *, required: bool = False) -> bool:
        """Whether ``name`` was given; when not and ``required`` on a create, record it as missing."""
        if name in self.payload:
            return True
        if required and self.creating:
            self.error(FIELD_MISSING, name, f"{name} is required")
        return False

    def text(
        self,
        name: str,
        check: Callable[[str], str] | None = None,
        *,
        required: bool = False,
        nullable: bool = False,
    ) -> None:
        """A string field; ``check`` returns why a string is refused ("" when it is accepted)."""
        if not self.present(name, required=required):
            return
        value = self.payload[name]
        if value is None and nullable:
            self.fields[name] = None
            return
        if not isinstance(value, str):
            kind = "a string or null" if nullable else "a string"
            self.error(INVALID_TYPE, name, f"{name} must be {kind}")
            return
        problem = check(value) if check is not None else ""
        if problem:
            self.error(INVALID_VALUE, name, problem)
        else:
            self.fields[name] = value

    def boolean(self, name: str, *, nullable: bool = False) -> None:
        """A ``true``/``false`` field (or ``null`` when ``nullable``)."""
        if not self.present(name):
            return
        value = self.payload[name]
        if isinstance(value, bool) or (nullable and value is None):
            self.fields[name] = value
        else:
            self.error(INVALID_TYPE, name, f"{name} must be true, false{' or null' if nullable else ''}")
