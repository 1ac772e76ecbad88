"""One lifecycle contract, run over every resource the provider serves, through the plugin process.

As pulumi-go-provider's ``integration.LifeCycleTest`` runs preview, create, update and delete for any
resource from a table, and as Pulumi's and Terraform's own providers are tested: Check refuses each bad
value naming its property; create; a preview and a refresh show no change; a change is applied in place
or replaces, as declared; a change made out of band shows on refresh and the next ``up`` restores it; an
object deleted out of band leaves the state; import, then preview, shows no diff; delete leaves nothing.
A resource adds its rows (``contract_cases.py``), not a test module; a served resource without rows
fails here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from contract_cases import CASES, Case
from plugin_harness import PluginProcess, details, writes
from pulumi.runtime.proto import provider_pb2

from kommo_provider.emulator import EmulatorServer
from kommo_provider.model import UNKNOWN
from kommo_provider.resources import REGISTRY

TOKENS = [resource.model.token for resource in REGISTRY.resources]
NONE = provider_pb2.DiffResponse.DIFF_NONE
SOME = provider_pb2.DiffResponse.DIFF_SOME
_names = itertools.count(1)


@pytest.fixture(params=TOKENS)
def case(request: pytest.FixtureRequest) -> Case:
    token: str = request.param
    assert token in CASES, f"{token} is served but has no rows in tests/contract_cases.py"
    return CASES[token]


class Object:
    """One declared resource of the contract, as the engine would drive it: its own name (URN)."""

    def __init__(self, plugin: PluginProcess, case: Case) -> None:
        self.plugin, self.case, self.name = plugin, case, f"c{next(_names)}"

    def check(self, props: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return self.plugin.check(props, self.name, typ=self.case.token)

    def checked(self, **changes: Any) -> dict[str, Any]:
        news, failures = self.check({**self.case.valid, **changes})
        assert failures == []
        return news

    def create(self, news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.plugin.create(news, typ=self.case.token, name=self.name)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> provider_pb2.DiffResponse:
        return self.plugin.diff(id_, olds, news, typ=self.case.token, name=self.name)

    def read(
        self, id_: str, olds: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        return self.plugin.read(id_, olds, inputs, typ=self.case.token, name=self.name)

    def delete(self, id_: str, olds: dict[str, Any]) -> None:
        self.plugin.delete(id_, olds, typ=self.case.token, name=self.name)


@pytest.fixture
def plugin() -> Iterator[PluginProcess]:
    """A plugin process per test: each test is a run of its own, so what one test's resources declared
    (the claims that refuse two resources on one object) is not seen by the next."""
    with PluginProcess() as process:
        yield process


@pytest.fixture
def obj(configured: PluginProcess, case: Case) -> Object:
    return Object(configured, case)


def test_every_served_resource_has_rows_and_every_row_is_served() -> None:
    assert sorted(CASES) == sorted(TOKENS)


def test_check_refuses_each_bad_value_naming_the_property(
    obj: Object, case: Case, emulator: EmulatorServer
) -> None:
    model = REGISTRY.resource(case.token).model  # type: ignore[union-attr]
    assert set(case.bad) == {f.schema_name for f in model.inputs}, "one bad value per input property"
    for prop, (value, words) in case.bad.items():
        _, failures = obj.check({**case.valid, prop: value})
        assert [p for p, _ in failures] == [prop], (prop, failures)
        assert failures[0][1].startswith(prop) and words in failures[0][1], failures[0][1]
    assert emulator.backend.requests() == []


def test_preview_sends_nothing_then_create_and_preview_and_refresh_show_no_change(
    obj: Object, case: Case, emulator: EmulatorServer
) -> None:
    news = obj.checked()
    _, preview = obj.plugin.create(news, preview=True, typ=case.token)
    assert UNKNOWN in preview.values()  # what only Kommo can answer waits for `up`
    assert writes(emulator) == []
    id_, outs = obj.create(news)
    assert id_ and case.count(emulator) == 1
    assert obj.diff(id_, outs, news).changes == NONE
    refreshed_id, refreshed, inputs = obj.read(id_, outs, news)
    assert refreshed_id == id_ and refreshed == outs
    assert (
        obj.diff(id_, refreshed, obj.checked(**{k: v for k, v in inputs.items() if k in news})).changes
        == NONE
    )


def test_a_change_applies_in_place_or_replaces_as_declared(
    obj: Object, case: Case, emulator: EmulatorServer
) -> None:
    news = obj.checked()
    id_, outs = obj.create(news)
    updated = obj.checked(**case.update)
    diff = obj.diff(id_, outs, updated)
    assert diff.changes == SOME and list(diff.replaces) == [] and set(diff.diffs) == set(case.update)
    after = obj.plugin.update(id_, outs, updated, typ=case.token, name=obj.name)
    assert all(after[k] == v for k, v in updated.items() if k in case.update)
    assert obj.diff(id_, after, updated).changes == NONE
    replaced = obj.checked(**case.replace)
    diff = obj.diff(id_, after, replaced)
    assert diff.changes == SOME and list(diff.replaces) == list(case.replace)


def test_a_change_made_out_of_band_shows_on_refresh_and_up_restores_it(
    obj: Object, case: Case, emulator: EmulatorServer
) -> None:
    news = obj.checked()
    id_, outs = obj.create(news)
    if case.drift is None:  # Kommo cannot read it back: refresh sends nothing and keeps the state
        sent = len(emulator.backend.requests())
        assert obj.read(id_, outs, news)[1] == outs and len(emulator.backend.requests()) == sent
        return
    moved = case.drift(emulator, outs)
    _, refreshed, _ = obj.read(id_, outs, news)
    assert refreshed[moved] != outs[moved]
    diff = obj.diff(id_, refreshed, news)
    assert diff.changes == SOME and moved in diff.diffs and not diff.replaces
    restored = obj.plugin.update(id_, refreshed, news, typ=case.token, name=obj.name)
    assert restored[moved] == outs[moved] and obj.read(id_, restored, news)[1] == restored


def test_an_object_deleted_out_of_band_leaves_the_state(
    obj: Object, case: Case, emulator: EmulatorServer
) -> None:
    id_, outs = obj.create(obj.checked())
    if case.remove is None:  # Kommo cannot read it back: refresh keeps it, and sends nothing
        sent = len(emulator.backend.requests())
        assert obj.read(id_, outs, obj.checked())[0] == id_ and len(emulator.backend.requests()) == sent
        return
    case.remove(emulator, outs)
    assert obj.read(id_, outs, obj.checked())[0] == ""


def test_import_then_preview_shows_no_diff(obj: Object, case: Case, emulator: EmulatorServer) -> None:
    news = obj.checked()
    id_, _ = obj.create(news)
    before = writes(emulator)
    imported_id, outs, inputs = obj.read(id_)
    assert imported_id == id_ and writes(emulator) == before  # an import only reads
    diff = obj.diff(id_, outs, obj.checked(**inputs))
    assert set(diff.diffs) <= set(case.unreadable) and not diff.replaces
    assert set(obj.diff(id_, outs, news).diffs) <= set(case.unreadable)


def test_delete_leaves_nothing_and_a_second_delete_is_harmless(
    obj: Object, case: Case, emulator: EmulatorServer
) -> None:
    id_, outs = obj.create(obj.checked())
    obj.delete(id_, outs)
    assert case.count(emulator) == 0
    obj.delete(id_, outs)
    assert case.count(emulator) == 0


def test_an_unknown_id_fails_import_in_one_sentence(obj: Object, case: Case) -> None:
    with pytest.raises(grpc.RpcError) as info:
        obj.read("acme.kommo.com/99999999" if case.drift else "not-an-id")
    assert "\n" not in details(info) and len(details(info)) < 500
