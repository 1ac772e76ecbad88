"""Resources declared once: a table of fields per resource, and every rule derived from it.

A :class:`Field` states a property's core and schema names, its stack-config key, its type, whether it
is required, what a change to it does, whether it is secret or an output only, its check and its
description. From a resource's table come ``schema.json``, validation and its messages, the name maps,
diff planning, the state and preview shapes, and the conversions of both front-ends, as pulumi-go-provider's
``infer`` derives them from one Go struct. Adding an optional input is one row and its check.

No Pulumi types and no I/O here: the core modules declare their tables, the front-ends translate.
Over 300 lines on purpose: a field's attributes and the rules that read them (validation, canonical
forms, planning, previews, the schema) are one design, and reading them side by side is what keeps
each attribute meaning one thing everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Final

UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""What Pulumi sends for a value not known yet during preview (``pulumi.runtime.rpc.UNKNOWN``)."""

GOT: Final = "{got}"
"""Where a check's reason shows the value it refused; :func:`describe` fills it in, or withholds it."""

SHOWN_CHARACTERS: Final = 60
"""Longer values are cut in messages: a 1 MB title must not come back as a 1 MB error."""

_SECRET_SHAPE: Final = re.compile(r"[0-9a-fA-F]{40}")
"""What Kommo's channel secrets look like (40 hex digits, as every published example)."""
_TOKEN_SHAPE: Final = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
"""A JWT, as Kommo's long-lived access tokens are."""


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is Pulumi's placeholder for a value not known until ``up``."""
    return isinstance(value, str) and value == UNKNOWN


def hide_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@``.

    A linear scan rather than a regular expression: a pattern for this backtracks for minutes on a
    megabyte of text.
    """
    parts: list[str] = []
    done = 0
    at = text.find("://")
    while at != -1:
        start = end = at + 3
        while end < len(text) and text[end] not in "/@?# \t\r\n":
            end += 1
        if end < len(text) and text[end] == "@":
            parts += [text[done:start], "***"]
            done = end
        at = text.find("://", end)
    parts.append(text[done:])
    return "".join(parts)


def describe(value: Any, *, secret: bool = False) -> str:
    """``value`` as an error message may show it: never a secret, never credentials, never at length.

    A value shaped like a channel secret or an access token is withheld even when it arrives in a field
    that is not secret: it was probably pasted into the wrong place.
    """
    if secret:
        return "a secret value (not shown)"
    if isinstance(value, str):
        text = value.strip()
        if _SECRET_SHAPE.fullmatch(text):
            return "a 40-character hex string, which looks like a channel secret (not repeated here)"
        if _TOKEN_SHAPE.match(text):
            return "a value that looks like an access token (not repeated here)"
        value = hide_credentials(value)
    shown = repr(value)
    if len(shown) > SHOWN_CHARACTERS:
        size = f"{len(value)} characters" if isinstance(value, str) else f"{len(shown)} characters as text"
        shown = f"{shown[: SHOWN_CHARACTERS - 10]}... ({size})"
    return shown


@dataclass(frozen=True)
class Problem:
    """Why a value is refused, where ``{got}`` stands for a part of it (one item of a list, a field of
    a nested object) rather than the whole value: that part is what a message may show."""

    reason: str
    shown: Any


def render(reason: str | Problem, value: Any, *, secret: bool = False) -> str:
    """A check's reason with its ``{got}`` filled in as :func:`describe` allows (withheld for a secret)."""
    text, shown = (reason.reason, reason.shown) if isinstance(reason, Problem) else (reason, value)
    return text.replace(GOT, describe(shown, secret=secret)) if GOT in text else text


def _prefixed(prefix: str, problem: str | Problem, value: Any) -> Problem:
    """A nested value's problem seen from the field that holds it: ``[0].type must be ...``."""
    if isinstance(problem, Problem):
        return Problem(prefix + problem.reason, problem.shown)
    return Problem(prefix + problem, value)


class Kind(Enum):
    """A property's type: its schema type and the Python values it accepts."""

    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    NUMBER = "number"
    STRING_LIST = "string list"
    STRING_MAP = "string map"
    INTEGER_LIST = "integer list"
    OBJECT = "object"
    OBJECT_LIST = "object list"
    ANY = "any"

    def schema(self) -> dict[str, Any]:
        if self is Kind.ANY:
            return {"$ref": "pulumi.json#/Any"}
        if self is Kind.STRING_MAP:
            return {"type": "object", "additionalProperties": {"type": "string"}}
        items = {
            Kind.STRING_LIST: "string",
            Kind.INTEGER_LIST: "integer",
            Kind.OBJECT_LIST: "object",
        }.get(self)
        if items is None:
            return {"type": self.value}
        if items == "object":
            return {
                "type": "array",
                "items": {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
            }
        return {"type": "array", "items": {"type": items}}

    def problem(self, value: Any) -> str | None:
        """What is wrong with the value's type, with ``{got}`` for the value; ``None`` when it fits."""
        if self is Kind.ANY:
            return None
        if self is Kind.OBJECT:
            return None if isinstance(value, dict) else "must be an object, got {got}"
        if self is Kind.STRING_MAP:
            ok = isinstance(value, dict) and all(isinstance(v, str) or is_unknown(v) for v in value.values())
            return None if ok else "must be a map of strings, got {got}"
        if self is Kind.STRING:
            return None if isinstance(value, str) else "must be a string, got {got}"
        if self is Kind.BOOLEAN:
            return None if isinstance(value, bool) else "must be true or false, got {got}"
        if self in (Kind.INTEGER, Kind.NUMBER):
            whole = self is Kind.INTEGER
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and whole and not float(value).is_integer():
                ok = False
            return None if ok else f"must be {'a whole number' if whole else 'a number'}, got {GOT}"
        items: dict[Kind, type | tuple[type, ...]] = {
            Kind.STRING_LIST: str,
            Kind.INTEGER_LIST: (int, float),
            Kind.OBJECT_LIST: dict,
        }
        item = items[self]
        if not isinstance(value, list):
            return f"must be a list of {self.value.split()[0]}s, got {GOT}"
        for element in value:
            if is_unknown(element):
                continue
            if not isinstance(element, item) or isinstance(element, bool):
                return f"must be a list of {self.value.split()[0]}s, got {GOT}"
        return None


class Change(Enum):
    """What a different value does to the object in Kommo."""

    REPLACE = "replace"
    """A different value is a different object: create the new one, delete the old."""
    UPDATE = "update"
    """Applied in place."""
    KEEP = "keep"
    """Applied in place when given; left out, whatever Kommo has is kept and nothing is sent."""
    NONE = "none"
    """Never planned: computed by Kommo, or a setting of how to talk to it."""


Check = Callable[[Any], "str | Problem | None"]
"""A field's own rule: the reason a (well-typed) value is refused, with ``{got}`` for the value (or a
:class:`Problem` naming the part of it to show), or None."""


@dataclass(frozen=True)
class Field:
    """One property of a resource, a function's result or the provider's configuration."""

    name: str
    """The core name, snake_case: the key in core dicts, and Kommo's own name where Kommo has one."""
    kind: Kind
    description: str
    schema_name: str = ""
    """The name in ``schema.json`` and every SDK; camelCase of ``name`` unless given."""
    output_description: str = ""
    """What the output says, where that differs from the input's description ("as Kommo answered it")."""
    required: bool = False
    change: Change = None  # type: ignore[assignment]  # resolved in __post_init__
    """What a different value does; left out: :attr:`Change.UPDATE` for an input, :attr:`Change.NONE`
    for an output only (an output that showed as a change would plan an update on every ``up``)."""
    secret: bool = False
    output_only: bool = False
    """Answered by Kommo or the provider, never set by a program."""
    input_only: bool = False
    """Taken by the program but not kept in the object's state (the plugin's channel secret)."""
    check: Check | None = None
    canonical: Callable[[Any], Any] | None = None
    """The value's canonical form (lower-case UUIDs, a host as its URL): compared and stored."""
    default: Any = None
    """Filled in by Check when left out, and declared in the schema (``hookApiVersion: v2``)."""
    absent: Any = None
    """What a value left out means, for comparing (``baseUrl`` absent is Kommo's host); not in the schema."""
    config_key: str | None = None
    """The stack config key that stands in for a value left out, such as ``kommo:channelId``."""
    where_from: str = ""
    """Where a required value comes from, for "is required" messages."""
    identity: bool = False
    """Part of what names the object in Kommo: a replacement that keeps every identity field deletes
    the old object first, or deleting it afterwards would undo the new one."""
    stable: bool = False
    """Known and unchanged through an in-place update, so previews keep it for its consumers."""
    api: bool = False
    """Sent to Kommo under its core name, and read back from Kommo's answer."""
    text_in_config: bool = False
    """Stack config holds text: the default provider may receive ``"8"`` for a number; its check reads it."""
    item: Model | None = None
    """The table of an :attr:`Kind.OBJECT` (or of each element of an :attr:`Kind.OBJECT_LIST`)."""

    def __post_init__(self) -> None:
        if not self.schema_name:
            head, *rest = self.name.split("_")
            object.__setattr__(self, "schema_name", head + "".join(part.title() for part in rest))
        if self.change is None:
            object.__setattr__(self, "change", Change.NONE if self.output_only else Change.UPDATE)
        contradiction = self._contradiction()
        if contradiction:
            raise ValueError(f"field {self.name}: {contradiction}")

    def _contradiction(self) -> str | None:
        """Flags that cannot hold together: a table that says two things fails when it is built."""
        rules = (
            (self.output_only and self.input_only, "output_only and input_only"),
            (self.output_only and self.required, "an output only cannot be required"),
            (self.output_only and self.default is not None, "an output only has no default"),
            (self.change is Change.KEEP and self.required, "KEEP means it may be left out: not required"),
            (self.change is Change.KEEP and self.default is not None, "KEEP and a default contradict"),
            (self.secret and self.identity, "a secret cannot name the object (ids and claims show it)"),
            (self.text_in_config and not self.config_key, "text_in_config needs a config_key"),
            (
                self.item is not None and self.kind not in (Kind.OBJECT, Kind.OBJECT_LIST),
                "an item table needs an object kind",
            ),
        )
        return next((what for broken, what in rules if broken), None)

    def problem(self, value: Any) -> str | Problem | None:
        """The reason ``value`` is refused (``{got}`` not filled in yet), or ``None``."""
        if self.text_in_config and isinstance(value, str) and self.kind in (Kind.INTEGER, Kind.NUMBER):
            return self.check(value) if self.check else None  # stack config's text of a number
        wrong_type: str | Problem | None = self.kind.problem(value)
        if wrong_type is None and self.item is not None:
            wrong_type = self._item_problem(value)
        if self.check is None:
            return wrong_type
        if wrong_type is None:
            return self.check(value)
        if self.kind not in (Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN):
            return wrong_type
        try:  # a check that says what the value should be ("a UUID string like ...") says it better
            return self.check(value) or wrong_type
        except (TypeError, AttributeError, ValueError):
            return wrong_type

    def _item_problem(self, value: Any) -> Problem | None:
        """The first problem inside an object (or a list of them), with where it is; what it shows is
        the nested value, never the whole list."""
        assert self.item is not None
        elements = [value] if self.kind is Kind.OBJECT else value
        for index, element in enumerate(elements):
            if is_unknown(element):
                continue
            at = "" if self.kind is Kind.OBJECT else f"[{index}]"
            takes = ", ".join(f.schema_name for f in self.item.inputs)
            extra = sorted(k for k in element if k not in self.item.names())
            if extra:
                return Problem(f"{at}: {GOT} is not a property here; it takes {takes}".lstrip(": "), extra[0])
            for inner, problem in self.item.problems(element):
                where = f"{at}.{inner.schema_name} ".lstrip(".")
                if problem is None:
                    return Problem(f"{where}is required", None)
                return _prefixed(where, problem, element.get(inner.name))
        return None

    def canonical_value(self, value: Any) -> Any:
        """The canonical form of a valid value; anything else (hand-edited state) comes back as it is."""
        if value is None:
            value = self.absent
        if self.canonical is None or value is None or is_unknown(value):
            return value
        try:
            return self.canonical(value)
        except (TypeError, ValueError, AttributeError):
            return value

    def schema(self, *, output: bool = False) -> dict[str, Any]:
        spec = self.kind.schema()
        if self.item is not None:
            ref = {"$ref": f"#/types/{self.item.token}"}
            spec = ref if self.kind is Kind.OBJECT else {"type": "array", "items": ref}
        spec["description"] = (output and self.output_description) or self.description
        if self.secret:
            spec["secret"] = True
        if self.default is not None and not output:
            spec["default"] = self.default
        return spec

    def as_output(self, description: str | None = None) -> Field:
        """This field as an output only, as when the plugin takes it from the provider's configuration;
        a change to it still plans what a change to the input did."""
        return replace(
            self,
            output_only=True,
            required=False,
            check=None,
            default=None,
            description=description or self.description,
            output_description="",
        )


@dataclass(frozen=True)
class Failure:
    """One problem with one field. ``missing`` failures carry no reason: the front-end says how to set it."""

    field: str
    reason: str = ""
    missing: bool = False


@dataclass(frozen=True)
class Plan:
    """What a change means: fields that force a replacement, fields applied in place."""

    replaces: tuple[str, ...] = ()
    updates: tuple[str, ...] = ()
    delete_before_replace: bool = False

    @property
    def changes(self) -> bool:
        return bool(self.replaces or self.updates)


@dataclass(frozen=True)
class Model:
    """A resource, a function or the provider configuration: its token and its table of fields."""

    token: str
    description: str
    fields: tuple[Field, ...]
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    _by_schema: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})
        object.__setattr__(self, "_by_schema", {f.schema_name: f for f in self.fields})
        if len(self._by_name) != len(self.fields) or len(self._by_schema) != len(self.fields):
            raise ValueError(f"{self.token}: two fields share a name")

    # -- lookups -----------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The short name, e.g. ``ChatChannelConnection``."""
        return self.token.rpartition(":")[2]

    def field(self, name: str) -> Field:
        return self._by_name[name]

    def by_schema_name(self, schema_name: str) -> Field | None:
        return self._by_schema.get(schema_name)

    @property
    def inputs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.output_only)

    @property
    def outputs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.input_only)

    def names(self, fields: Iterable[Field] | None = None) -> tuple[str, ...]:
        return tuple(f.name for f in (self.fields if fields is None else fields))

    # -- names -------------------------------------------------------------------------------------

    def to_schema(self, core: Mapping[str, Any]) -> dict[str, Any]:
        """Core names to schema names, nested objects too; keys the table does not declare are left out."""
        return {
            self._by_name[k].schema_name: _nested(self._by_name[k], v, to_core=False)
            for k, v in core.items()
            if k in self._by_name
        }

    def to_core(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Schema names to core names, nested objects too; keys the table does not declare are left out."""
        return {
            self._by_schema[k].name: _nested(self._by_schema[k], v, to_core=True)
            for k, v in props.items()
            if k in self._by_schema
        }

    # -- rules -------------------------------------------------------------------------------------

    def problems(
        self,
        props: Mapping[str, Any],
        fields: Iterable[Field] | None = None,
        *,
        required: Iterable[str] | None = None,
    ) -> list[tuple[Field, str | Problem | None]]:
        """Each of ``fields`` (default: the inputs) that ``props`` gets wrong, with its reason not yet
        rendered; ``None`` for a required field left out. Unknown values wait for ``up``."""
        must = {f.name for f in self.fields if f.required} if required is None else set(required)
        found: list[tuple[Field, str | Problem | None]] = []
        for f in self.inputs if fields is None else fields:
            value = props.get(f.name)
            if value is None or (f.secret and value == ""):
                if f.name in must:
                    found.append((f, None))
                continue
            if is_unknown(value):
                continue
            problem = f.problem(value)
            if problem:
                found.append((f, problem))
        return found

    def validate(
        self,
        props: Mapping[str, Any],
        fields: Iterable[Field] | None = None,
        *,
        secret: Iterable[str] = (),
        required: Iterable[str] | None = None,
    ) -> list[Failure]:
        """Every problem with ``fields`` (default: the inputs) of ``props``, at most one per field.

        ``secret`` names the values that arrived as secrets or hold one anywhere inside (a program may
        make any value secret): those, like fields declared secret, are never shown in a reason, nor is
        any part of them. Unknown values wait for ``up``.
        """
        hidden = set(secret)
        return [
            Failure(f.name, missing=True)
            if problem is None
            else Failure(f.name, render(problem, props.get(f.name), secret=f.secret or f.name in hidden))
            for f, problem in self.problems(props, fields, required=required)
        ]

    def normalize(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in and canonical forms of valid values; other keys pass through."""
        out = dict(props)
        for f in self.fields:
            if f.name not in out and f.default is None:
                continue
            value = out.get(f.name)
            if value is None and f.default is not None and not f.output_only:
                value = f.default
            out[f.name] = f.canonical_value(value)
        return out

    def plan(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Plan:
        """Compare the stored object with the desired one (both keyed by core names).

        Unknown new values count as changed. A :attr:`Change.KEEP` field left out keeps what Kommo has. A
        field the old state lacks (an imported object) counts as changed, so the next ``up`` applies the
        program's value. Values compare in canonical form, so ``kommo`` and ``https://amojo.kommo.com``
        or two spellings of one UUID are no change.
        """

        def changed(f: Field) -> bool:
            new = news.get(f.name)
            if is_unknown(new):
                return True
            if new is None and f.change is Change.KEEP:
                return False
            return bool(f.canonical_value(new) != f.canonical_value(olds.get(f.name)))

        planned = [f for f in self.fields if f.change is not Change.NONE and changed(f)]
        replaces = tuple(f.name for f in planned if f.change is Change.REPLACE)
        updates = tuple(f.name for f in planned if f.change is not Change.REPLACE)
        identity = [f for f in self.fields if f.identity]
        keeps_identity = bool(identity) and not any(f.name in replaces for f in identity)
        return Plan(replaces, updates, delete_before_replace=bool(replaces) and keeps_identity)

    def preview(self, known: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The state a create (or, with ``olds``, an in-place update) will return, with what only Kommo
        can answer left unknown: every output not in ``known`` is unknown, except stable ones and
        :attr:`Change.KEEP` fields left out, which keep their stored values."""
        state: dict[str, Any] = {}
        for f in self.outputs:
            value = known.get(f.name)
            if value is None and olds is not None and (f.stable or f.change is Change.KEEP):
                value = olds.get(f.name)
            if value is None and f.default is not None and not f.output_only:
                value = f.default
            state[f.name] = UNKNOWN if value is None and (f.output_only or f.change is Change.KEEP) else value
        return state

    # -- schema ------------------------------------------------------------------------------------

    def types(self) -> dict[str, Any]:
        """The object types this table's fields hold, for ``schema.json``'s ``types``."""
        found: dict[str, Any] = {}
        for f in self.fields:
            if f.item is not None:
                found[f.item.token] = {
                    "type": "object",
                    "description": f.item.description,
                    "properties": f.item.schema_properties(f.item.fields),
                    "required": [g.schema_name for g in f.item.fields if g.required],
                }
                found.update(f.item.types())
        return found

    def schema_properties(self, fields: Iterable[Field], *, output: bool = False) -> dict[str, Any]:
        return {f.schema_name: f.schema(output=output) for f in fields}

    def resource_schema(self) -> dict[str, Any]:
        """This resource's entry in ``schema.json``: inputs, outputs and which are required."""
        replace_on = {f.schema_name for f in self.inputs if f.change is Change.REPLACE}
        inputs = self.schema_properties(self.inputs)
        for name in replace_on:
            inputs[name]["replaceOnChanges"] = True
        return {
            "description": self.description,
            "inputProperties": inputs,
            "requiredInputs": [f.schema_name for f in self.inputs if f.required],
            "properties": self.schema_properties(self.outputs, output=True),
            "required": [f.schema_name for f in self.outputs if f.required or f.stable],
        }

    def function_schema(self) -> dict[str, Any]:
        """This function's entry in ``schema.json``: its arguments and its result."""
        inputs = self.inputs
        spec: dict[str, Any] = {"description": self.description}
        if inputs:
            spec["inputs"] = {
                "properties": self.schema_properties(inputs),
                "required": [f.schema_name for f in inputs if f.required],
            }
        return spec | {
            "outputs": {
                "properties": self.schema_properties(self.outputs, output=True),
                "required": [f.schema_name for f in self.outputs if f.required or f.output_only],
            },
        }


def _nested(field: Field, value: Any, *, to_core: bool) -> Any:
    """A value under the other naming: nested objects' keys renamed (keys their table does not declare
    are kept, for the check to name), and whole numbers from the wire (every number there is a double)
    as ints for integer fields."""
    if value is None or is_unknown(value):
        return value
    if field.kind is Kind.INTEGER:
        return _whole(value)
    if field.kind is Kind.INTEGER_LIST and isinstance(value, list):
        return [_whole(v) for v in value]
    item = field.item
    if item is None:
        return value
    if field.kind is Kind.OBJECT:
        return _rename(item, value, to_core=to_core) if isinstance(value, dict) else value
    if isinstance(value, list):
        return [_rename(item, v, to_core=to_core) if isinstance(v, dict) else v for v in value]
    return value


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _rename(item: Model, value: Mapping[str, Any], *, to_core: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, inner in value.items():
        found = item.by_schema_name(key) if to_core else (item.field(key) if key in item.names() else None)
        if found is None:
            out[key] = inner
        else:
            out[found.name if to_core else found.schema_name] = _nested(found, inner, to_core=to_core)
    return out
