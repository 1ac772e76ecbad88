"""Pulumi's property values on the wire (``google.protobuf.Struct``) to Python values and back.

The engine marks a secret as an object ``{SPECIAL_KEY: SECRET_MARKER, "value": ...}`` and a value not
known yet (during preview) as the string ``UNKNOWN``; the markers are Pulumi's own
(:mod:`pulumi.runtime.rpc`). Secrets become :class:`Secret` here so the adapter always knows which
values it must hand back as secrets; unknowns stay the sentinel string the core already recognizes
(:data:`kommo_provider.model.UNKNOWN`, the same string, named in the core so that the core imports no
Pulumi module).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from ..model import UNKNOWN, Model

SPECIAL_KEY: Final[str] = rpc._special_sig_key
"""The key that marks one of Pulumi's special objects (a secret, an asset, a resource reference)."""
SECRET_MARKER: Final[str] = rpc._special_secret_sig
"""The value of :data:`SPECIAL_KEY` that makes the object a secret."""

assert rpc.UNKNOWN == UNKNOWN, "the core's UNKNOWN must be Pulumi's"


@dataclass(frozen=True)
class Secret:
    """A value the engine sent, or must receive, as a secret."""

    value: Any

    def __repr__(self) -> str:
        return "Secret(<redacted>)"


def reveal(value: Any) -> Any:
    """The value with every :class:`Secret` unwrapped, recursively."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, Secret)


def holds_secret(value: Any) -> bool:
    """Whether ``value`` is a secret or holds one anywhere inside."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_secret(v) for v in value)
    return False


def secret_names(model: Model, props: Mapping[str, Any]) -> tuple[str, ...]:
    """The core names of the properties that arrived as secrets (or hold one): never to be shown."""
    return tuple(
        field.name
        for name, value in props.items()
        if holds_secret(value) and (field := model.by_schema_name(name)) is not None
    )


def _from_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "null_value" or kind is None:
        return None
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        return value.number_value
    if kind == "string_value":
        return value.string_value
    if kind == "list_value":
        return [_from_value(v) for v in value.list_value.values]
    fields = {k: _from_value(v) for k, v in value.struct_value.fields.items()}
    if fields.get(SPECIAL_KEY) == SECRET_MARKER:
        return Secret(fields.get("value"))
    return fields


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A property map as a dict; secrets as :class:`Secret`, unknowns as the UNKNOWN string."""
    return {k: _from_value(v) for k, v in struct.fields.items()}


def _to_value(value: Any) -> struct_pb2.Value:
    out = struct_pb2.Value()
    if value is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, Secret):
        out.struct_value.CopyFrom(to_struct({SPECIAL_KEY: SECRET_MARKER, "value": value.value}))
    elif isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, (int, float)):
        out.number_value = float(value)
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, (list, tuple)):
        out.list_value.values.extend(_to_value(v) for v in value)
    elif isinstance(value, Mapping):
        out.struct_value.CopyFrom(to_struct(value))
    else:
        raise TypeError(f"cannot send a {type(value).__name__} as a property value")
    return out


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """The dict as a property map; :class:`Secret` values go out as Pulumi secrets."""
    struct = struct_pb2.Struct()
    for key, value in props.items():
        struct.fields[key].CopyFrom(_to_value(value))
    return struct
