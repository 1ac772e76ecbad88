"""Drive the ``kommo`` plugin the way the Pulumi engine does: its own process, spoken to over gRPC.

The process is the installed console script ``pulumi-resource-kommo`` (what the CLI finds on PATH),
given an engine address it never needs to reach for these calls. Every plugin test uses this one
harness: the process, the provider configurations it is given (:func:`provider_config`), and the words
to read what it answers (:func:`details`, :func:`writes`); ``conftest.py`` makes fixtures of them.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
from constants import CHANNEL_ID, CHANNEL_SECRET
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from rest_helpers import ACME_TOKEN, GLOBEX_TOKEN

from kommo_provider.emulator import EmulatorServer
from kommo_provider.plugin.wire import Secret, from_struct, to_struct

PLUGIN = Path(sys.executable).parent / "pulumi-resource-kommo"
PROVIDER_URN = "urn:pulumi:test::kommo-test::pulumi:providers:kommo::channel"
CONNECTION_TYPE = "kommo:index:ChatChannelConnection"
RESOURCE_URN = "urn:pulumi:test::kommo-test::{typ}::{name}"


_runs = itertools.count(1)


def provider_config(
    emulator: EmulatorServer, *, chat: bool = True, rest: bool = True, **overrides: Any
) -> dict[str, Any]:
    """A provider for the test channel and both test accounts (``acme`` the default, ``globex`` by its
    host in ``accessTokens``), on the emulator, unpaced, with short retries; ``overrides`` replace or
    (``None``) remove properties."""
    values: dict[str, Any] = {"maxRequestsPerSecond": 0, "maxRetries": 1, "readTimeout": 2}
    if chat:
        values.update(channelId=CHANNEL_ID, channelSecret=Secret(CHANNEL_SECRET), baseUrl=emulator.url)
    if rest:
        values.update(
            accountDomain="acme",
            accessToken=Secret(ACME_TOKEN),
            accessTokens=Secret({"globex.kommo.com": GLOBEX_TOKEN}),
            apiBaseUrl=emulator.url,
        )
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def details(error: Any) -> str:
    """The text of a failed call (a ``pytest.raises`` of ``grpc.RpcError``)."""
    return str(error.value.details() or "")


def writes(emulator: EmulatorServer) -> list[tuple[str, str]]:
    """Requests that change something at Kommo (anything but a read)."""
    return [(r.method, r.path) for r in emulator.backend.requests() if r.method != "GET"]


class PluginProcess:
    """A running plugin and a stub for it; every call takes and returns plain dicts.

    Each process is started for a Pulumi run of its own (an engine address nobody listens at), as the
    engine starts one per run: what one run's resources hold is not seen by the next.
    """

    def __init__(self, engine: str | None = None) -> None:
        self.engine = f"127.0.0.1:{next(_runs)}" if engine is None else engine
        args = [str(PLUGIN), self.engine] if self.engine else [str(PLUGIN)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.proc.stdout is not None
        port = int(self.proc.stdout.readline().decode().strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> str:
        """Stop the process; returns what it wrote to stderr."""
        self.channel.close()
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err.decode(errors="replace")

    def __enter__(self) -> PluginProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def version(self) -> str:
        return str(self.stub.GetPluginInfo(empty_pb2.Empty()).version)

    def schema(self) -> str:
        return str(self.stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)

    def check_config(self, news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        resp = self.stub.CheckConfig(provider_pb2.CheckRequest(urn=PROVIDER_URN, news=to_struct(news)))
        return from_struct(resp.inputs), [(f.property, f.reason) for f in resp.failures]

    def diff_config(self, olds: dict[str, Any], news: dict[str, Any]) -> provider_pb2.DiffResponse:
        request = provider_pb2.DiffRequest(
            urn=PROVIDER_URN, olds=to_struct(olds), news=to_struct(news), old_inputs=to_struct(olds)
        )
        response: provider_pb2.DiffResponse = self.stub.DiffConfig(request)
        return response

    def configure(self, args: dict[str, Any]) -> provider_pb2.ConfigureResponse:
        response: provider_pb2.ConfigureResponse = self.stub.Configure(
            provider_pb2.ConfigureRequest(args=to_struct(args), acceptSecrets=True)
        )
        return response

    def check(
        self, news: dict[str, Any], name: str = "a", *, typ: str = CONNECTION_TYPE
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        urn = RESOURCE_URN.format(typ=typ, name=name)
        resp = self.stub.Check(provider_pb2.CheckRequest(urn=urn, news=to_struct(news)))
        return from_struct(resp.inputs), [(f.property, f.reason) for f in resp.failures]

    def diff(
        self,
        id_: str,
        olds: dict[str, Any],
        news: dict[str, Any],
        *,
        typ: str = CONNECTION_TYPE,
        name: str = "a",
    ) -> provider_pb2.DiffResponse:
        urn = RESOURCE_URN.format(typ=typ, name=name)
        response: provider_pb2.DiffResponse = self.stub.Diff(
            provider_pb2.DiffRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news))
        )
        return response

    def create(
        self, props: dict[str, Any], *, preview: bool = False, typ: str = CONNECTION_TYPE, name: str = "a"
    ) -> tuple[str, dict[str, Any]]:
        urn = RESOURCE_URN.format(typ=typ, name=name)
        resp = self.stub.Create(
            provider_pb2.CreateRequest(urn=urn, properties=to_struct(props), preview=preview)
        )
        return resp.id, from_struct(resp.properties)

    def update(
        self,
        id_: str,
        olds: dict[str, Any],
        news: dict[str, Any],
        *,
        preview: bool = False,
        typ: str = CONNECTION_TYPE,
        name: str = "a",
    ) -> dict[str, Any]:
        urn = RESOURCE_URN.format(typ=typ, name=name)
        resp = self.stub.Update(
            provider_pb2.UpdateRequest(
                id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news), preview=preview
            )
        )
        return from_struct(resp.properties)

    def read(
        self,
        id_: str,
        props: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        *,
        typ: str = CONNECTION_TYPE,
        name: str = "a",
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        urn = RESOURCE_URN.format(typ=typ, name=name)
        resp = self.stub.Read(
            provider_pb2.ReadRequest(
                id=id_, urn=urn, properties=to_struct(props or {}), inputs=to_struct(inputs or {})
            )
        )
        return resp.id, from_struct(resp.properties), from_struct(resp.inputs)

    def delete(self, id_: str, props: dict[str, Any], *, typ: str = CONNECTION_TYPE, name: str = "a") -> None:
        urn = RESOURCE_URN.format(typ=typ, name=name)
        self.stub.Delete(provider_pb2.DeleteRequest(id=id_, urn=urn, properties=to_struct(props)))

    def invoke(self, token: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        result, failures = self.invoke_checked(token, args)
        assert failures == [], failures
        return result

    def invoke_checked(
        self, token: str, args: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """A function's result and the failures of its arguments."""
        resp = self.stub.Invoke(provider_pb2.InvokeRequest(tok=token, args=to_struct(args or {})))
        return from_struct(getattr(resp, "return")), [(f.property, f.reason) for f in resp.failures]
