"""The account's objects in the plugin (REST API v4): ``Source`` and ``Webhook``, and the lookups.

Check, Diff and the previews come from the tables (:data:`kommo_provider.sources.SOURCE`,
:data:`kommo_provider.account_webhooks.WEBHOOK`); this module adds what reaches Kommo. Both objects can
be read back, so refresh answers what Kommo has (an object deleted out of band leaves the state) and
``pulumi import`` reads the whole object from its id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from .. import account_webhooks, lookups, sources
from ..configuration import REST
from ..exceptions import ApiError, ConfigurationError, PluginError
from ..model import Model
from .config import ProviderConfig
from .resources import ModelResource, group_failures

if TYPE_CHECKING:
    from ..rest import RestApiClient


@contextmanager
def calling(what: str) -> Iterator[None]:
    """A call to Kommo that fails says, in one sentence, what was being done and Kommo's answer."""
    try:
        yield
    except (ApiError, ConfigurationError) as exc:
        raise PluginError(f"{what} failed: {exc}") from None


class RestResource(ModelResource):
    """A REST object: refresh and import read it back, in the table's names."""

    group: ClassVar[str] = REST

    def client(self, config: ProviderConfig) -> RestApiClient:
        self.require_group(config)
        return config.rest()

    def inputs_from(self, state: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The inputs that match ``state``: after an import, every value Kommo has; after a refresh,
        Kommo's values for the inputs the program gave."""
        core = {
            f.name: state.get(f.name)
            for f in self.model.inputs
            if state.get(f.name) not in (None, []) and (olds is None or f.schema_name in olds)
        }
        return self.model.to_schema(core)


class Source(RestResource):
    """``kommo:index:Source``: create POSTs, update PATCHes, delete DELETEs, refresh GETs by id."""

    model: ClassVar[Model] = sources.SOURCE

    def _id(self, id_: str) -> int:
        number = sources.parse_id(id_)
        if number is None:
            raise PluginError(f"a Source's id is Kommo's numeric source id, such as 123456; got {id_[:40]!r}")
        return number

    def create(self, config: ProviderConfig, news: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        desired = self.desired(config, news)
        with calling(f"creating source {desired.get('external_id')!r}"):
            state = sources.create(self.client(config), desired)
        return str(state["source_id"]), self.outputs(state, news)

    def update(
        self, config: ProviderConfig, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        with calling(f"updating source {id_}"):
            state = sources.update(self.client(config), self._id(id_), self.desired(config, news))
        return self.outputs(state, news)

    def delete(self, config: ProviderConfig, id_: str, olds: Mapping[str, Any]) -> None:
        with calling(f"deleting source {id_}, so it stays in state,"):
            sources.delete(self.client(config), self._id(id_))

    def read(
        self, config: ProviderConfig, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        with calling(f"reading source {id_}"):
            state = sources.read(self.client(config), self._id(id_))
        if state is None:
            return None
        return id_, self.outputs(state, olds), self.inputs_from(state, inputs)

    def import_(self, config: ProviderConfig, id_: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        self._id(id_)  # a number, or one sentence saying what the id should be
        found = self.read(config, id_, {}, {})
        if found is None:
            raise PluginError(
                f"cannot import Source {id_}: Kommo has no source with that id for this token (a source "
                "belongs to the integration whose token created it)"
            )
        _, outputs, _ = found
        return id_, outputs, self.inputs_from(self.stored(outputs))


class Webhook(RestResource):
    """``kommo:index:Webhook``: create and update post the hook, delete names its destination."""

    model: ClassVar[Model] = account_webhooks.WEBHOOK

    def desired(self, config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
        wanted = super().desired(config, news)
        wanted["disabled"] = False  # a hook Kommo disabled is posted again, which enables it
        return wanted

    def _subscribe(self, config: ProviderConfig, news: Mapping[str, Any]) -> dict[str, Any]:
        desired = self.desired(config, news)
        with calling(f"subscribing webhook {desired.get('destination')}"):
            state = account_webhooks.subscribe(self.client(config), desired)
        return self.outputs(state, news)

    def create(self, config: ProviderConfig, news: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        outputs = self._subscribe(config, news)
        return str(outputs["destination"]), outputs

    def update(
        self, config: ProviderConfig, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._subscribe(config, news)

    def delete(self, config: ProviderConfig, id_: str, olds: Mapping[str, Any]) -> None:
        with calling(f"deleting webhook {id_}, so it stays in state,"):
            account_webhooks.unsubscribe(self.client(config), id_)

    def read(
        self, config: ProviderConfig, id_: str, olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        with calling(f"reading webhook {id_}"):
            state = account_webhooks.read(self.client(config), id_)
        if state is None:
            return None
        return id_, self.outputs(state, olds), self.inputs_from(state, inputs)

    def import_(self, config: ProviderConfig, id_: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        problem = account_webhooks.destination_problem(id_)
        if problem:
            raise PluginError(f"cannot import Webhook: its id is its destination URL, which {problem[:200]}")
        found = self.read(config, id_, {}, {})
        if found is None:
            raise PluginError(f"cannot import Webhook: the account has no webhook for {id_}")
        _, outputs, _ = found
        return id_, outputs, self.inputs_from(self.stored(outputs))


FUNCTIONS: dict[str, tuple[Model, Callable[[RestApiClient], dict[str, Any]]]] = {
    lookups.GET_ACCOUNT.token: (lookups.GET_ACCOUNT, lookups.get_account),
    lookups.GET_PIPELINES.token: (lookups.GET_PIPELINES, lookups.get_pipelines),
}
"""The plugin's functions (invokes), by token: each a table of its result and the call that reads it."""


def invoke(config: ProviderConfig, token: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Run a function; its result in the schema's names."""
    found = FUNCTIONS.get(token)
    if found is None:
        raise PluginError(f"the kommo provider has no function {token!r}; it serves {', '.join(FUNCTIONS)}")
    model, call = found
    if args:
        raise PluginError(f"{model.name} takes no arguments; got {', '.join(sorted(args))}")
    failures = group_failures(config, REST, model.name)
    if failures:
        raise PluginError("; ".join(failures))
    with calling(model.name):
        return model.to_schema(call(config.rest()))
