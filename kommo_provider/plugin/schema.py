"""The ``kommo`` package schema: ``schema.json`` beside this module, versioned as this Python package.

``schema.json`` carries no version of its own, as Pulumi's native providers keep theirs: the version
comes from the installed package, so the plugin, its schema and the SDKs generated from it agree.
``python -m kommo_provider.plugin.schema`` prints the versioned schema (the SDK generator reads it).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import metadata, resources
from typing import Any

PACKAGE = "kommo"
DISTRIBUTION = "kommo-provider"


@cache
def version() -> str:
    """The plugin's version: the installed ``kommo-provider`` distribution's."""
    return metadata.version(DISTRIBUTION)


def schema() -> dict[str, Any]:
    """The schema as a dict, with ``version`` set."""
    text = resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    data["version"] = version()
    return data


@cache
def schema_json() -> str:
    """The schema as GetSchema answers it."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_json(), end="")
