"""A dynamic resource that does nothing: the floor for timing the Pulumi/gRPC path itself."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


class NoopProvider(ResourceProvider):
    """Answers every operation at once, with the inputs as outputs."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props.get("key", "noop")), outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=olds.get("key") != news.get("key"))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=dict(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=dict(props))


class Noop(Resource, module="bench", name="Noop"):
    key: pulumi.Output[str]

    def __init__(self, name: str, key: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(NoopProvider(), name, {"key": key}, opts)
