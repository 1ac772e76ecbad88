"""What every resource of the ``kommo`` plugin does the same way, derived from its declared table.

Check (unknown properties, each field's rules, defaults, canonical forms, the provider group the resource
needs), Diff (the table's plan, in the schema's names), the preview shapes and the conversion of state to
outputs (secrets kept secret) are the same for every resource: a resource module declares its table and
writes only what reaches Kommo (create, read, update, delete).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..configuration import GROUPS, PROVIDER
from ..exceptions import PluginError
from ..model import Failure, Model
from .config import ProviderConfig, how_to_set
from .diffs import Diff, diff
from .wire import Secret, is_secret, reveal, secret_names

Failures = list[tuple[str, str]]


def group_failures(config: ProviderConfig | None, group: str, name: str) -> list[str]:
    """What ``name`` (a resource or function) needs set on the provider for ``group``, if anything."""
    if config is None:
        return []
    what = GROUPS[group].what
    return [
        f"{name} needs {prop.schema_name} for {what}: {how_to_set(prop)}" for prop in config.missing(group)
    ]


class ModelResource:
    """A resource type of the plugin: its table, the provider group it needs, and its operations."""

    model: ClassVar[Model]
    group: ClassVar[str]
    """The provider configuration group (:data:`kommo_provider.configuration.GROUPS`) it needs."""

    # -- derived from the table --------------------------------------------------------------------

    def _reason(self, failure: Failure) -> str:
        prop = self.model.field(failure.field)
        if failure.missing:
            origin = f" ({prop.where_from})" if prop.where_from else ""
            return f"{prop.schema_name} is required: set {prop.schema_name} on the resource{origin}"
        return f"{prop.schema_name} {failure.reason}"

    def _unknown_property(self, prop: str) -> str:
        takes = ", ".join(f.schema_name for f in self.model.inputs)
        hint = " (the channel comes from the kommo provider)" if PROVIDER.by_schema_name(prop) else ""
        return f"{prop} is not a property of {self.model.name}; it takes {takes}{hint}"

    def group_failures(self, config: ProviderConfig | None) -> Failures:
        """A resource whose provider lacks its group fails at preview, naming what to set there."""
        return [("", reason) for reason in group_failures(config, self.group, self.model.name)]

    def check(
        self, config: ProviderConfig | None, news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], Failures]:
        """Validate the program's inputs: one failure per property, in the schema's names; then fill
        defaults and canonical forms (a UUID in lower case), keeping secrets secret."""
        inputs = {f.schema_name for f in self.model.inputs}
        failures = [(p, self._unknown_property(p)) for p in news if p not in inputs]
        core = self.model.to_core(reveal(dict(news)))
        found = self.model.validate(core, secret=secret_names(self.model, news))
        failures += [(self.model.field(f.field).schema_name, self._reason(f)) for f in found]
        failures += self.group_failures(config)
        checked = dict(news)
        if not found:
            for name, value in self.model.normalize(core).items():
                prop = self.model.field(name).schema_name
                if value is not None and (prop in checked or self.model.field(name).default is not None):
                    checked[prop] = Secret(value) if is_secret(news.get(prop)) else value
        return checked, failures

    def stored(self, olds: Mapping[str, Any]) -> dict[str, Any]:
        """A resource's state under core names, without secret wrappers."""
        return self.model.to_core(reveal(dict(olds)))

    def desired(self, config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
        """The object the program (and the provider) ask for, under core names."""
        return self.model.to_core(reveal(dict(news)))

    def diff(self, config: ProviderConfig, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
        return diff(self.model, self.stored(olds), self.desired(config, news))

    def outputs(self, state: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        """Core state as schema outputs; secret fields, and inputs that came as secrets, stay secret."""
        outs: dict[str, Any] = {}
        for f in self.model.outputs:
            if f.name not in state:
                continue
            value = state[f.name]
            if value is not None and (f.secret or is_secret(news.get(f.schema_name))):
                value = value if isinstance(value, Secret) else Secret(value)
            outs[f.schema_name] = value
        return outs

    def preview_create(self, config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
        """What ``create`` will return, with what only Kommo can answer left unknown. Sends nothing."""
        return self.outputs(self.model.preview(self.desired(config, news)), news)

    def preview_update(
        self, config: ProviderConfig, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What ``update`` will return: stable outputs stay known for what consumes them."""
        state = self.model.preview(self.desired(config, news), olds=self.stored(olds))
        return self.outputs(state, news)

    def require_group(self, config: ProviderConfig) -> None:
        failures = self.group_failures(config)
        if failures:
            raise PluginError("; ".join(reason for _, reason in failures))

    # -- what reaches Kommo: each resource writes these --------------------------------------------

    def create(self, config: ProviderConfig, news: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def update(
        self, config: ProviderConfig, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def delete(self, config: ProviderConfig, id_: str, olds: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def read(
        self, config: ProviderConfig, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """Refresh: the object as Kommo has it now (id, outputs, inputs), or ``None`` when it is gone."""
        raise NotImplementedError

    def import_(self, config: ProviderConfig, id_: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """``pulumi import``: (id, outputs, inputs) of an object made outside Pulumi, from its id alone."""
        raise NotImplementedError
