"""Drive a dynamic provider the way the Pulumi engine does: a separate ``python -m pulumi.dynamic``
process spoken to over gRPC, with the exact inputs the SDK registers.

The inputs are captured by building the resource under ``pulumi.runtime.set_mocks`` (so they include
the serialized ``__provider``), then secrets are unwrapped as the engine does for a provider that
does not accept secrets. This catches pickling, import-path and output bugs that calling provider
methods directly cannot.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import grpc
import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECRET_SIG: Final = rpc._special_sig_key
"""The key of Pulumi's special objects; a secret has Pulumi's secret marker under it."""


def unwrap_secrets(value: Any) -> Any:
    """Replace Pulumi secret wrappers by their values, recursively."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == rpc._special_secret_sig:
            return unwrap_secrets(value["value"])
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


class _CaptureMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, tuple[str, dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[args.name] = (args.typ, dict(args.inputs))
        return (f"{args.name}-id", dict(args.inputs))

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return ({}, None)


def registered_inputs(build: Callable[[], pulumi.CustomResource]) -> tuple[str, dict[str, Any]]:
    """(type token, inputs) that the SDK registers for the resource ``build`` creates."""
    mocks = _CaptureMocks()
    pulumi.runtime.set_mocks(mocks, project="kommo-provider", stack="engine-test", preview=False)
    holder: dict[str, pulumi.CustomResource] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> pulumi.Output[str]:
        holder["resource"] = build()
        return holder["resource"].urn

    run()
    name = holder["resource"]._name
    typ, inputs = mocks.inputs[name]
    return typ, unwrap_secrets(inputs)


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def _dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct, True))


class ProviderProcess:
    """``python -u -m pulumi.dynamic`` started like the engine starts it (cwd = project directory)."""

    def __init__(self, cwd: Path = PROJECT_DIR, env: dict[str, str] | None = None) -> None:
        self.stderr_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"provider-{os.getpid()}-{id(self)}.log"
        self._stderr = self.stderr_path.open("w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, "PULUMI_PROJECT": "kommo-provider", **(env or {})},
        )
        assert self.proc.stdout is not None
        port = int(self.proc.stdout.readline().decode().strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.urn = ""
        self.type = ""

    def close(self) -> None:
        self.channel.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._stderr.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def for_resource(self, typ: str, name: str) -> ProviderProcess:
        self.type = typ
        self.urn = f"urn:pulumi:engine-test::kommo-provider::{typ}::{name}"
        return self

    def configure(self, config: dict[str, str]) -> None:
        self.stub.Configure(provider_pb2.ConfigureRequest(variables=config, args=_struct(config)))

    def check(
        self, olds: dict[str, Any], news: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        resp = self.stub.Check(
            provider_pb2.CheckRequest(urn=self.urn, olds=_struct(olds), news=_struct(news))
        )
        return _dict(resp.inputs), [(f.property, f.reason) for f in resp.failures]

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> provider_pb2.DiffResponse:
        response: provider_pb2.DiffResponse = self.stub.Diff(
            provider_pb2.DiffRequest(id=id_, urn=self.urn, olds=_struct(olds), news=_struct(news))
        )
        return response

    def create(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        resp = self.stub.Create(provider_pb2.CreateRequest(urn=self.urn, properties=_struct(props)))
        return resp.id, _dict(resp.properties)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        resp = self.stub.Update(
            provider_pb2.UpdateRequest(id=id_, urn=self.urn, olds=_struct(olds), news=_struct(news))
        )
        return _dict(resp.properties)

    def read(self, id_: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        resp = self.stub.Read(provider_pb2.ReadRequest(id=id_, urn=self.urn, properties=_struct(props)))
        return resp.id, _dict(resp.properties)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.stub.Delete(provider_pb2.DeleteRequest(id=id_, urn=self.urn, properties=_struct(props)))
