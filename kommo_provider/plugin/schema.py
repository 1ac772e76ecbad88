"""The ``kommo`` package schema, generated from the declared tables and committed as ``schema.json``.

Every resource and function comes from the one registry (:data:`kommo_provider.resources.REGISTRY`), and
every property from a table; this module adds only what belongs to the package (its name, links,
language settings). The plugin
serves the committed file, versioned as this Python package, so start-up reads a file instead of building
the schema; ``tests/test_schema.py`` fails when the file is stale.

``python -m kommo_provider.plugin.schema`` prints the versioned schema (the SDK generator reads it);
``--write`` regenerates ``schema.json``.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any, Final

from .. import __version__
from ..configuration import PROVIDER
from ..model import Model
from ..resources import REGISTRY

PACKAGE: Final = "kommo"
SCHEMA_FILE: Final = Path(__file__).with_name("schema.json")
PLUGIN_DOWNLOAD_URL: Final = "github://api.github.com/kommo-provider/kommo-provider"
"""Where the CLI downloads the plugin from: the GitHub releases of the repository the Go module names."""

RESOURCES: Final[tuple[Model, ...]] = tuple(resource.model for resource in REGISTRY.resources)
FUNCTIONS: Final[tuple[Model, ...]] = tuple(function.model for function in REGISTRY.functions)

METADATA: Final[dict[str, Any]] = {
    "name": PACKAGE,
    "displayName": "Kommo",
    "description": "A Kommo (amoCRM) chat integration's per-account setup as code: connect accounts to a "
    "custom chat channel of the Chat API (amojo), route chats to a pipeline with sources, subscribe to "
    "account events with webhooks, and look the account up.",
    "keywords": ["pulumi", "kommo", "amocrm", "amojo", "chat", "crm", "category/utility", "kind/native"],
    "homepage": "https://www.kommo.com/developers/content/chats/chat-api-reference/",
    "license": "Apache-2.0",
    "publisher": "kommo-provider",
    "repository": "https://github.com/kommo-provider/kommo-provider",
    "pluginDownloadURL": PLUGIN_DOWNLOAD_URL,
}

LANGUAGE: Final[dict[str, Any]] = {
    "python": {
        "packageName": "pulumi_kommo",
        "pyproject": {"enabled": True},
        "requires": {"pulumi": ">=3.269.0,<4.0.0"},
        "respectSchemaVersion": True,
    },
    "nodejs": {
        "packageName": "@kommo-provider/kommo",
        "packageDescription": "Kommo with Pulumi: chat channel connections and account setup as code.",
        "dependencies": {"@pulumi/pulumi": "^3.269.0"},
        "typescriptVersion": "~5.9.3",
        "respectSchemaVersion": True,
    },
    "go": {
        "importBasePath": "github.com/kommo-provider/kommo-provider/sdk/go/kommo",
        "generateResourceContainerTypes": False,
        "respectSchemaVersion": True,
    },
}


def generate() -> dict[str, Any]:
    """The schema as the tables declare it, without a version (the package's is added when served)."""
    return {
        **METADATA,
        "config": {"variables": PROVIDER.schema_properties(PROVIDER.fields)},
        "provider": {
            "description": PROVIDER.description,
            "inputProperties": PROVIDER.schema_properties(PROVIDER.fields),
            "requiredInputs": [f.schema_name for f in PROVIDER.fields if f.required],
        },
        "types": {token: spec for model in RESOURCES + FUNCTIONS for token, spec in model.types().items()},
        "resources": {model.token: model.resource_schema() for model in RESOURCES},
        **({"functions": {m.token: m.function_schema() for m in FUNCTIONS}} if FUNCTIONS else {}),
        "language": LANGUAGE,
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def version() -> str:
    """The plugin's version: the package's own (``kommo_provider.__version__``)."""
    return __version__


def schema() -> dict[str, Any]:
    """The committed schema as a dict, with ``version`` set."""
    data: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data["version"] = version()
    return data


@cache
def schema_json() -> str:
    """The schema as GetSchema answers it."""
    return render(schema())


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        SCHEMA_FILE.write_text(render(generate()), encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
        return 0
    print(schema_json(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
