"""The REST object types the emulator serves, one line each: routes, state and drift routes follow it."""

from __future__ import annotations

from typing import Any, Final

from kommo_provider.emulator.rest.collection import ObjectType
from kommo_provider.emulator.rest.models import UnknownObjectError
from kommo_provider.emulator.rest.sources import SOURCES
from kommo_provider.emulator.rest.templates import CHAT_TEMPLATES
from kommo_provider.emulator.rest.webhooks import WEBHOOKS

OBJECT_TYPES: Final[tuple[ObjectType[Any], ...]] = (SOURCES, WEBHOOKS, CHAT_TEMPLATES)

_BY_NAME: Final = {kind.name: kind for kind in OBJECT_TYPES}
_BY_PATH: Final = {kind.path: kind for kind in OBJECT_TYPES}


def object_type(name: str) -> ObjectType[Any]:
    """The object type of a collection name (``sources``); ``UnknownObjectError`` names the choices."""
    kind = _BY_NAME.get(name)
    if kind is None:
        raise UnknownObjectError(f"no collection {name!r}; collections: {', '.join(_BY_NAME)}")
    return kind


def object_type_at(path: str) -> ObjectType[Any]:
    """The object type served under ``/api/v4/<path>`` (the routes only match declared paths)."""
    return _BY_PATH[path]
