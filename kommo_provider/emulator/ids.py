"""Kommo's ids as the emulator compares them: UUIDs case-insensitively, as UUIDs are defined.

Channel ids and account ids (amojo_ids) are UUIDs; ``3B5E8F2A-...`` and ``3b5e8f2a-...`` name the
same channel or account (RFC 9562: UUID text is case-insensitive on input, lower-case on output).
"""

from __future__ import annotations

import re
from typing import Final

_UUID_TEXT: Final = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def canonical_id(value: str) -> str:
    """The lower-case form of a hyphenated UUID; any other string as it is (compared exactly)."""
    return value.lower() if _UUID_TEXT.match(value) else value


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a hyphenated UUID in either case."""
    return _UUID_TEXT.match(value) is not None
