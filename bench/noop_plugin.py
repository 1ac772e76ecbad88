"""A provider plugin that does nothing: the floor for timing the plugin path (process, gRPC, engine).

Package ``benchnoop``, one resource ``benchnoop:index:Thing``. It is served the way the ``kommo``
plugin is (``grpc.server`` with the same thread pool and options, started by a launcher), answers
every call at once and sends nothing anywhere. A Thing takes the inputs of a ChatChannelConnection
and answers with outputs of the same shape (the same keys, the fingerprint as a secret), so Pulumi's
own cost of carrying a connection's state (gRPC, the language host, checkpoints, secrets) is in the
floor too: ``kommo`` minus ``benchnoop`` is what the Kommo plugin's code costs.

``python -m bench.noop_plugin ENGINE`` serves it; :func:`install_launcher` writes the
``pulumi-resource-benchnoop`` executable the CLI looks for on PATH.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

# The kommo plugin's server settings (kommo_provider.plugin.server), repeated rather than imported so
# this floor does not pay for importing the code it is compared with.
MAX_WORKERS = 32
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.max_send_message_length", 400 * 1024 * 1024),
]
PACKAGE = "benchnoop"
VERSION = "0.0.1"
THING = f"{PACKAGE}:index:Thing"
_STRING = {"type": "string"}
SCHEMA = {
    "name": PACKAGE,
    "version": VERSION,
    "provider": {
        "inputProperties": {
            "channelId": _STRING,
            "channelSecret": {"type": "string", "secret": True},
            "baseUrl": _STRING,
            "maxRequestsPerSecond": {"type": "number"},
        }
    },
    "resources": {
        THING: {
            "inputProperties": {"accountId": _STRING, "title": _STRING},
            "properties": {"accountId": _STRING, "title": _STRING, "scopeId": _STRING},
            "required": ["accountId"],
        }
    },
}
_SIG = rpc._special_sig_key
_SECRET = rpc._special_secret_sig


def _outputs(inputs: struct_pb2.Struct) -> struct_pb2.Struct:
    """The inputs plus the other outputs a connection has, with placeholder values."""
    out = struct_pb2.Struct()
    out.CopyFrom(inputs)
    account = inputs.fields["accountId"].string_value
    out.update(
        {
            "scopeId": f"f90ba33d-c9d9-44da-b76c-c349b0ecbe41_{account}",
            "channelId": "f90ba33d-c9d9-44da-b76c-c349b0ecbe41",
            "baseUrl": "http://127.0.0.1:8765",
            "title": inputs.fields["title"].string_value if "title" in inputs.fields else "Emulated channel",
            "hookApiVersion": "v2",
            "isTimeWindowDisabled": False,
            "reconnectTriggers": None,
            "secretFingerprint": {_SIG: _SECRET, "value": "0123456789abcdef0123456789abcdef"},
        }
    )
    return out


class NoopProvider(provider_pb2_grpc.ResourceProviderServicer):
    """Answers every operation with its inputs, at once."""

    def GetPluginInfo(self, request: empty_pb2.Empty, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetSchema(self, request: Any, context: Any) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(schema=json.dumps(SCHEMA))

    def CheckConfig(self, request: provider_pb2.CheckRequest, context: Any) -> provider_pb2.CheckResponse:
        inputs = struct_pb2.Struct()
        inputs.CopyFrom(request.news)
        secret = inputs.fields.get("channelSecret")
        if secret is not None and secret.WhichOneof("kind") == "string_value":  # as kommo does
            inputs.update({"channelSecret": {_SIG: _SECRET, "value": secret.string_value}})
        return provider_pb2.CheckResponse(inputs=inputs)

    def DiffConfig(self, request: provider_pb2.DiffRequest, context: Any) -> provider_pb2.DiffResponse:
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True)

    def Check(self, request: provider_pb2.CheckRequest, context: Any) -> provider_pb2.CheckResponse:
        inputs = struct_pb2.Struct()
        inputs.CopyFrom(request.news)
        if "hookApiVersion" not in inputs.fields:
            inputs.update({"hookApiVersion": "v2"})
        return provider_pb2.CheckResponse(inputs=inputs)

    def Diff(self, request: provider_pb2.DiffRequest, context: Any) -> provider_pb2.DiffResponse:
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Create(self, request: provider_pb2.CreateRequest, context: Any) -> provider_pb2.CreateResponse:
        outputs = _outputs(request.properties)
        scope_id = outputs.fields["scopeId"].string_value
        return provider_pb2.CreateResponse(id="" if request.preview else scope_id, properties=outputs)

    def Update(self, request: provider_pb2.UpdateRequest, context: Any) -> provider_pb2.UpdateResponse:
        return provider_pb2.UpdateResponse(properties=_outputs(request.news))

    def Delete(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    def Read(self, request: provider_pb2.ReadRequest, context: Any) -> provider_pb2.ReadResponse:
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()


def serve(provider: provider_pb2_grpc.ResourceProviderServicer | None = None) -> None:
    """Serve ``provider`` (default: this no-op) as the engine expects: the port on stdout, then wait."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=MAX_WORKERS), options=_GRPC_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider or NoopProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()


def install_launcher(bin_dir: Path, package: str = PACKAGE, module: str = "bench.noop_plugin") -> Path:
    """``pulumi-resource-<package>`` in ``bin_dir``: this interpreter running ``module``."""
    launcher = bin_dir / f"pulumi-resource-{package}"
    root = Path(__file__).resolve().parent.parent
    launcher.write_text(
        f'#!/bin/sh\nPYTHONPATH={root} exec {sys.executable} -m {module} "$@"\n', encoding="utf-8"
    )
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return launcher


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    serve()
