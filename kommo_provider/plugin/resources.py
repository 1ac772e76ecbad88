"""What the plugin does the same way for every resource and function, derived from its table.

A resource module (:mod:`kommo_provider.resources`) declares its table and writes what reaches Kommo;
everything else is here, once: decoding a request's properties (once per request), Check (unknown
properties, each field's rules, what the provider lacks, two declared resources on one object),
Diff (the table's plan in the schema's names), the previews, outputs with secrets kept secret, the
claims that keep a delete from removing what another declared resource holds, and errors in one
sentence that never repeats a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..claims import ClaimKey
from ..configuration import CHAT, PROVIDER, group_of
from ..exceptions import InvalidRequestError, KommoError, PluginError
from ..model import Failure, Model, is_unknown
from ..resources.base import Found, Function, Resource
from .config import ProviderConfig, how_to_set
from .diffs import Diff, diff
from .wire import Secret, is_secret, reveal, secret_names

log = logging.getLogger("kommo_provider")

Failures = list[tuple[str, str]]
SCRUBBED = "[secret]"
SHORTEST_SCRUBBED = 4
"""Shorter secret values are not searched for in messages: every ``1`` of a message is not a secret."""


@dataclass(frozen=True)
class Props:
    """A property map as the engine sent it, decoded once: its wire values (secrets wrapped), the core
    values (plain, under the table's names) and the core names of the values that came as secrets."""

    wire: dict[str, Any]
    core: dict[str, Any]
    secret: frozenset[str]

    @classmethod
    def decode(cls, model: Model, wire: Mapping[str, Any]) -> Props:
        plain = dict(wire)
        return cls(plain, model.to_core(reveal(plain)), frozenset(secret_names(model, plain)))

    def secret_texts(self, model: Model) -> set[str]:
        """Every text held by a value that came as a secret, or by a field declared secret."""
        found: set[str] = set()
        for name, value in self.core.items():
            field = model.field(name) if name in model.names() else None
            if name in self.secret or (field is not None and field.secret):
                found.update(_texts(value))
        return {text for text in found if len(text) >= SHORTEST_SCRUBBED}


def _texts(value: Any) -> Iterable[str]:
    """Every text a value holds, numbers as Kommo would write them back (``Pipeline 123 ...``)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(int(value)) if float(value).is_integer() else str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value in it (Kommo's own words may repeat one) replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, SCRUBBED)
    return text


def _one_line(exc: KommoError, secrets: Iterable[str]) -> PluginError:
    """A failure as the plugin answers it: one sentence, no secret, its property errors kept."""
    properties = exc.properties if isinstance(exc, PluginError) else ()
    return PluginError(
        scrub(str(exc), secrets), properties=tuple((p, scrub(r, secrets)) for p, r in properties)
    )


class PluginResource:
    """A resource type as the plugin serves it: the module's operations, wrapped in what is common."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.model = resource.model

    # -- wording ------------------------------------------------------------------------------------

    def _reason(self, failure: Failure) -> str:
        prop = self.model.field(failure.field)
        if failure.missing:
            origin = f" ({prop.where_from})" if prop.where_from else ""
            return f"{prop.schema_name} is required: set {prop.schema_name} on the resource{origin}"
        return f"{prop.schema_name} {failure.reason}"

    def _unknown_property(self, prop: str) -> str:
        takes = ", ".join(f.schema_name for f in self.model.inputs)
        provider = PROVIDER.by_schema_name(prop)
        hint = ""
        if provider is not None and group_of(provider) == CHAT:
            hint = " (the channel comes from the kommo provider)"
        elif provider is not None:
            hint = " (it is set on the kommo provider)"
        return f"{prop} is not a property of {self.model.name}; it takes {takes}{hint}"

    def _schema_name(self, name: str) -> str:
        return self.model.field(name).schema_name if name in self.model.names() else name

    def needs(self, config: ProviderConfig | None, desired: Mapping[str, Any]) -> Failures:
        """What the provider lacks for this object, worded with where to set it."""
        if config is None:
            return []
        if self.resource.group == CHAT:
            return [
                (
                    "",
                    f"{self.model.name} needs {prop.schema_name} for the Chat API (connections): "
                    + how_to_set(prop),
                )
                for prop in config.missing(CHAT)
            ]
        return [
            (self._schema_name(name), f"{self._schema_name(name)} {reason}")
            for name, reason in self.resource.problems(config, desired)
        ]

    # -- claims -------------------------------------------------------------------------------------

    def _keys(
        self, config: ProviderConfig, values: Mapping[str, Any], id_: str | None = None
    ) -> tuple[ClaimKey, ...]:
        if any(is_unknown(v) for v in values.values()):
            values = {k: v for k, v in values.items() if not is_unknown(v)}
        return self.resource.claim_keys(config, values, id_)

    def _claim(
        self, config: ProviderConfig, urn: str, keys: Iterable[ClaimKey], *, refuse_others: bool = False
    ) -> Failures:
        """Record that this declared resource holds ``keys``. At preview (``refuse_others``), two
        resources on one object that may not be shared are refused, naming the other."""
        failures: Failures = []
        for key in keys:
            config.claims.claim(key, urn)
            others = config.claims.others(key, urn) if refuse_others and not self.resource.shared else ()
            if others:
                other = others[0].rpartition("::")[2] or others[0]
                failures.append(
                    (
                        "",
                        f"{self.model.name} {urn.rpartition('::')[2]} declares the same object in Kommo as "
                        f"{other} ({key.parts[-2]} of {key.parts[1]}): one object can be declared by one "
                        "resource; remove one of them, or give them different values",
                    )
                )
        return failures

    def _release(self, config: ProviderConfig, urn: str, keys: Iterable[ClaimKey]) -> None:
        for key in keys:
            config.claims.release(key, urn)

    # -- check, diff and previews ------------------------------------------------------------------

    def check(self, config: ProviderConfig | None, urn: str, news: Props) -> tuple[dict[str, Any], Failures]:
        """Validate the program's inputs: one failure per property, in the schema's names; then fill
        defaults and canonical forms (a UUID in lower case), keeping secrets secret."""
        inputs = {f.schema_name for f in self.model.inputs}
        failures = [(p, self._unknown_property(p)) for p in news.wire if p not in inputs]
        found = self.model.validate(news.core, secret=news.secret)
        failures += [(self.model.field(f.field).schema_name, self._reason(f)) for f in found]
        checked = dict(news.wire)
        if found:
            return checked, failures
        normalized = self.model.normalize(news.core)
        for name, value in normalized.items():
            prop = self.model.field(name).schema_name
            if value is not None and (prop in checked or self.model.field(name).default is not None):
                checked[prop] = Secret(value) if is_secret(news.wire.get(prop)) else value
        if config is not None:
            desired = self.resource.desired(config, normalized)
            failures += self.needs(config, desired)
            if not failures:
                failures += self._claim(config, urn, self._keys(config, desired), refuse_others=True)
        return checked, failures

    def diff(self, config: ProviderConfig, urn: str, id_: str, olds: Props, news: Props) -> Diff:
        stored = self.resource.stored(config, id_, olds.core)
        desired = self.resource.desired(config, news.core)
        self._claim(config, urn, self._keys(config, desired) + self._keys(config, stored, id_))
        return diff(self.model, stored, desired)

    def outputs(self, state: Mapping[str, Any], secret: frozenset[str]) -> dict[str, Any]:
        """Core state as schema outputs; secret fields, and inputs that came as secrets, stay secret."""
        outs: dict[str, Any] = {}
        for f in self.model.outputs:
            if f.name not in state:
                continue
            value = state[f.name]
            if value is not None and (f.secret or f.name in secret):
                value = value if isinstance(value, Secret) else Secret(value)
            outs[f.schema_name] = value
        return outs

    def preview_create(self, config: ProviderConfig, news: Props) -> dict[str, Any]:
        """What ``create`` will return, with what only Kommo can answer left unknown. Sends nothing."""
        return self.outputs(self.model.preview(self.resource.desired(config, news.core)), news.secret)

    def preview_update(self, config: ProviderConfig, id_: str, olds: Props, news: Props) -> dict[str, Any]:
        """What ``update`` will return: stable outputs stay known for what consumes them."""
        stored = self.resource.stored(config, id_, olds.core)
        state = self.model.preview(self.resource.desired(config, news.core), olds=stored)
        return self.outputs(state, news.secret)

    # -- what reaches Kommo ---------------------------------------------------------------------------

    def _ready(self, config: ProviderConfig, desired: Mapping[str, Any]) -> None:
        """Fail in one sentence when the provider lacks what this object needs (it may not have been
        known at preview)."""
        failures = self.needs(config, desired)
        if failures:
            raise PluginError("; ".join(reason for _, reason in failures))

    def create(self, config: ProviderConfig, urn: str, news: Props) -> tuple[str, dict[str, Any]]:
        desired = self.resource.desired(config, news.core)
        keys = self._keys(config, desired)
        try:
            self._ready(config, desired)
            found = self.resource.create(config, desired)
        except KommoError as exc:
            self._release(config, urn, keys)  # it holds nothing: the old object's delete may go ahead
            raise self._failure(exc, news) from None
        self._claim(config, urn, self._keys(config, found.state, found.id))
        return found.id, self.outputs(found.state, news.secret)

    def update(self, config: ProviderConfig, urn: str, id_: str, olds: Props, news: Props) -> dict[str, Any]:
        stored = self.resource.stored(config, id_, olds.core)
        desired = self.resource.desired(config, news.core)
        try:
            self._ready(config, desired)
            state = self.resource.update(config, id_, stored, desired)
        except KommoError as exc:
            raise self._failure(exc, news, olds) from None
        return self.outputs(state, news.secret)

    def delete(self, config: ProviderConfig, urn: str, id_: str, olds: Props) -> None:
        """Delete the object, unless another resource declared in this run holds it: then only the
        state goes, with a warning."""
        stored = self.resource.stored(config, id_, olds.core)
        for key in self._keys(config, stored, id_):
            if config.claims.held(key, besides=urn):
                config.claims.warn_kept(key)
                return
        try:
            if self.resource.group == CHAT:
                self._ready(config, stored)
            self.resource.delete(config, id_, stored)
        except KommoError as exc:
            raise self._failure(exc, olds) from None

    def read(
        self, config: ProviderConfig, urn: str, id_: str, olds: Props, inputs: Props
    ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """Refresh: the object as Kommo has it now, with the inputs that match it; ``None``: gone."""
        stored = self.resource.stored(config, id_, olds.core)
        try:
            found = self.resource.read(config, id_, stored)
        except KommoError as exc:
            raise self._failure(exc, olds, inputs) from None
        if found is None:
            return None
        return found.id, self.outputs(found.state, olds.secret), self.inputs_from(found.state, inputs)

    def import_(
        self, config: ProviderConfig, urn: str, id_: str
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """``pulumi import``: the object from its id alone, and every input that describes it."""
        try:
            if self.resource.group == CHAT:
                self._ready(config, {})
            found: Found = self.resource.import_(config, id_)
        except KommoError as exc:
            raise self._failure(exc) from None
        self._claim(config, urn, self._keys(config, found.state, found.id))
        return found.id, self.outputs(found.state, frozenset()), self.inputs_from(found.state)

    def inputs_from(self, state: Mapping[str, Any], given: Props | None = None) -> dict[str, Any]:
        """The inputs that match ``state``: after an import, every value Kommo has; after a refresh,
        Kommo's values for the inputs the program gave (in canonical form, secrets kept secret)."""
        core = {
            f.name: f.canonical_value(state.get(f.name))
            for f in self.model.inputs
            if state.get(f.name) not in (None, []) and (given is None or f.schema_name in given.wire)
        }
        schema = self.model.to_schema(core)
        if given is not None:
            schema = {
                k: Secret(v) if is_secret(given.wire.get(k)) else v
                for k, v in schema.items()
                if k in given.wire
            }
        return schema

    def _failure(self, exc: KommoError, *props: Props) -> PluginError:
        secrets: set[str] = set()
        for each in props:
            secrets |= each.secret_texts(self.model)
        if isinstance(exc, InvalidRequestError) and not isinstance(exc, PluginError):
            exc = PluginError(str(exc), properties=self._property_errors(exc))
        return _one_line(exc, secrets)

    def _property_errors(self, exc: InvalidRequestError) -> tuple[tuple[str, str], ...]:
        found = []
        for path in exc.paths:
            name = path.split(".")[1] if path[:1].isdigit() and "." in path else path.split(".")[0]
            if name in self.model.names():
                found.append((self.model.field(name).schema_name, "Kommo refused this value"))
        return tuple(found)


class PluginFunction:
    """A function as the plugin serves it: its arguments checked, its result in the schema's names."""

    def __init__(self, function: Function) -> None:
        self.function = function
        self.model = function.model

    def invoke(self, config: ProviderConfig, args: Props) -> tuple[dict[str, Any], Failures]:
        """The result, or the failures of the arguments (each naming its property) and nothing called."""
        takes = {f.schema_name for f in self.model.inputs}
        failures = [
            (p, f"{p} is not an argument of {self.model.name}; it takes {', '.join(sorted(takes)) or 'none'}")
            for p in args.wire
            if p not in takes
        ]
        found = self.model.validate(args.core, secret=args.secret)
        failures += [
            (self.model.field(f.field).schema_name, f"{self.model.field(f.field).schema_name} {f.reason}")
            for f in found
        ]
        if failures:
            return {}, failures
        core = self.model.normalize(args.core)
        needs = self.function.problems(config, core)
        if needs:
            raise PluginError("; ".join(f"{self.model.name}: {name} {reason}" for name, reason in needs))
        try:
            result = self.function.call(config, core)
        except KommoError as exc:
            raise _one_line(exc, args.secret_texts(self.model)) from None
        return self.model.to_schema(result), []
