"""Every resource and function the ``kommo`` provider serves: the one list.

``schema.json`` (:mod:`kommo_provider.plugin.schema`), the plugin's dispatch
(:mod:`kommo_provider.plugin.server`) and, through the schema, every generated SDK come from
:data:`REGISTRY`, as pulumi-command's one list of ``infer.Resource`` is at once its schema and its
dispatch table. Adding a resource is a module here and a line below.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from . import account, chat_template, connection, source, webhook
from .base import Context, Found, Function, Resource


@dataclass(frozen=True)
class Registry:
    """The served resources and functions, each found by its type token."""

    resources: tuple[Resource, ...]
    functions: tuple[Function, ...]

    def __post_init__(self) -> None:
        tokens = [r.model.token for r in self.resources] + [f.model.token for f in self.functions]
        if len(set(tokens)) != len(tokens):
            raise ValueError("two resources or functions share a token")

    def resource(self, token: str) -> Resource | None:
        return next((r for r in self.resources if r.model.token == token), None)

    def function(self, token: str) -> Function | None:
        return next((f for f in self.functions if f.model.token == token), None)

    def __iter__(self) -> Iterator[Resource | Function]:
        return iter((*self.resources, *self.functions))


REGISTRY: Final = Registry(
    resources=(connection.RESOURCE, source.RESOURCE, webhook.RESOURCE, chat_template.RESOURCE),
    functions=account.FUNCTIONS,
)

__all__ = ["REGISTRY", "Context", "Found", "Function", "Registry", "Resource"]
