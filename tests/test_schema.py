"""``schema.json`` is generated from the declared tables: the committed file must be what they declare.

Regenerate with ``python -m kommo_provider.plugin.schema --write`` (then the SDKs with
``scripts/gen-sdk.sh``, which ``tests/test_sdk_generated.py`` checks the same way).
"""

from __future__ import annotations

import json

from kommo_provider.configuration import PROVIDER
from kommo_provider.model import Change
from kommo_provider.plugin.schema import FUNCTIONS, RESOURCES, SCHEMA_FILE, generate, render


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
