"""The ``kommo`` package schema: ``schema.json`` beside this module, versioned as this Python package.

``schema.json`` carries no version of its own, as Pulumi's native providers keep theirs: the version
comes from this package, so the plugin, its schema and the SDKs generated from it agree.
``python -m kommo_provider.plugin.schema`` prints the versioned schema (the SDK generator reads it).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .. import __version__

PACKAGE = "kommo"
SCHEMA_FILE = Path(__file__).with_name("schema.json")


def version() -> str:
    """The plugin's version: the package's own (``kommo_provider.__version__``)."""
    return __version__


def schema() -> dict[str, Any]:
    """The schema as a dict, with ``version`` set."""
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    data["version"] = version()
    return data


@cache
def schema_json() -> str:
    """The schema as GetSchema answers it."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_json(), end="")
