"""``schema.json`` is generated from the registry and its tables: the committed file must be what they
declare, the plugin must serve what it names, and a table that contradicts itself fails when it is built.

Regenerate with ``python -m kommo_provider.plugin.schema --write`` (then the SDKs with
``scripts/gen-sdk.sh``, which ``tests/test_sdk_generated.py`` checks the same way).
"""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from plugin_harness import PluginProcess, details

from kommo_provider.configuration import PROVIDER
from kommo_provider.model import Change, Field, Kind, Model
from kommo_provider.plugin.schema import FUNCTIONS, RESOURCES, SCHEMA_FILE, generate, render
from kommo_provider.resources import REGISTRY


def test_the_committed_schema_is_what_the_tables_declare() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == render(generate()), (
        "kommo_provider/plugin/schema.json is stale: run `python -m kommo_provider.plugin.schema --write` "
        "and scripts/gen-sdk.sh, and commit both"
    )


def test_every_row_reaches_the_schema_with_its_rules() -> None:
    data = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    for model in RESOURCES:
        spec = data["resources"][model.token]
        assert list(spec["inputProperties"]) == [f.schema_name for f in model.inputs]
        assert list(spec["properties"]) == [f.schema_name for f in model.outputs]
        for field in model.inputs:
            prop = spec["inputProperties"][field.schema_name]
            assert prop.get("replaceOnChanges", False) is (field.change is Change.REPLACE)
            assert prop.get("secret", False) is field.secret
    for model in FUNCTIONS:
        assert list(data["functions"][model.token]["outputs"]["properties"]) == [
            f.schema_name for f in model.outputs
        ]
    assert list(data["provider"]["inputProperties"]) == [f.schema_name for f in PROVIDER.fields]
    assert data["config"]["variables"] == data["provider"]["inputProperties"]


def test_every_schema_token_is_served_and_every_served_token_is_in_the_schema(
    configured: PluginProcess,
) -> None:
    """The registry is the one list: the schema, the plugin's dispatch and with them the SDKs agree."""
    data = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    served_resources = [r.model.token for r in REGISTRY.resources]
    served_functions = [f.model.token for f in REGISTRY.functions]
    assert list(data["resources"]) == served_resources and list(data["functions"]) == served_functions
    for token in served_resources:  # the plugin process answers each (a type it does not serve fails)
        _, failures = configured.check({}, typ=token)
        assert not any("has no resource type" in reason for _, reason in failures)
    for token in served_functions:
        _, failures = configured.invoke_checked(token, {"nope": 1})
        assert failures and "is not an argument" in failures[0][1]
    with pytest.raises(grpc.RpcError) as info:
        configured.check({}, typ="kommo:index:Unserved")
    assert "has no resource type 'kommo:index:Unserved'" in details(info)


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        ({"output_only": True, "input_only": True}, "output_only and input_only"),
        ({"output_only": True, "required": True}, "cannot be required"),
        ({"output_only": True, "default": "x"}, "no default"),
        ({"change": Change.KEEP, "required": True}, "not required"),
        ({"change": Change.KEEP, "default": "x"}, "KEEP and a default"),
        ({"secret": True, "identity": True}, "cannot name the object"),
        ({"text_in_config": True}, "needs a config_key"),
        ({"item": PROVIDER}, "needs an object kind"),
    ],
)
def test_a_table_that_says_two_things_fails_when_it_is_built(flags: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Field("x", Kind.STRING, "A field.", **flags)


def test_an_output_only_field_plans_no_change_unless_it_says_so() -> None:
    assert Field("answered", Kind.STRING, "Kommo's.", output_only=True).change is Change.NONE
    assert Field("given", Kind.STRING, "The program's.").change is Change.UPDATE
    rotated = Field("fingerprint", Kind.STRING, "Moves.", output_only=True, change=Change.UPDATE)
    model = Model("kommo:index:T", "T.", (rotated, Field("answered", Kind.STRING, "K.", output_only=True)))
    assert model.plan(
        {"fingerprint": "a", "answered": "x"}, {"fingerprint": "b", "answered": "y"}
    ).updates == ("fingerprint",)
