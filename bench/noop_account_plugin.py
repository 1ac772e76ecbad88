"""A no-op provider plugin shaped like the kommo plugin's account setup: the floor for the fleet benchmarks.

Package ``benchnoopacct``: a provider with the kommo provider's properties (a default account, or
``accessTokens`` and ``tokenCommand`` for a fleet), resources ``Connection``, ``Source`` and ``Webhook``
with the inputs and output shapes of kommo's ``ChatChannelConnection``, ``Source`` and ``Webhook``
(``account`` on the last two, ids ``<host>/<id>``), and a function ``getAccount`` taking ``account`` and
answering like kommo's. It is served as the kommo plugin is (bench/noop_plugin.py's server settings),
answers every call at once, runs no token command and sends nothing anywhere, so a stack of these costs
what Pulumi itself spends on the same stack: processes, gRPC, the language host, invokes, checkpoints
and secrets.

It imports no more than bench/noop_plugin.py, so its start-up is a floor too. ``python -m
bench.noop_account_plugin ENGINE`` serves it; :func:`install_launcher` writes the
``pulumi-resource-benchnoopacct`` executable the CLI looks for on PATH.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2

from bench import noop_plugin

PACKAGE = "benchnoopacct"
VERSION = "0.0.1"
CONNECTION = f"{PACKAGE}:index:Connection"
SOURCE = f"{PACKAGE}:index:Source"
WEBHOOK = f"{PACKAGE}:index:Webhook"
GET_ACCOUNT = f"{PACKAGE}:index:getAccount"
_STRING: dict[str, Any] = {"type": "string"}
_INTEGER: dict[str, Any] = {"type": "integer"}
_SECRET: dict[str, Any] = {"type": "string", "secret": True}
_STRINGS: dict[str, Any] = {"type": "array", "items": _STRING}
_ACCOUNT: dict[str, Any] = {"type": "string"}
SCHEMA = {
    "name": PACKAGE,
    "version": VERSION,
    "provider": {
        "inputProperties": {
            "channelId": _STRING,
            "channelSecret": _SECRET,
            "baseUrl": _STRING,
            "accountDomain": _STRING,
            "accessToken": _SECRET,
            "accessTokens": {"type": "object", "additionalProperties": _STRING, "secret": True},
            "tokenCommand": _STRINGS,
            "tokenCommandTimeout": {"type": "number"},
            "apiBaseUrl": _STRING,
            "maxRequestsPerSecond": {"type": "number"},
        }
    },
    "resources": {
        CONNECTION: {
            "inputProperties": {"accountId": _STRING, "title": _STRING},
            "properties": {"accountId": _STRING, "title": _STRING, "scopeId": _STRING},
            "required": ["accountId"],
        },
        SOURCE: {
            "inputProperties": {
                "account": _ACCOUNT,
                "name": _STRING,
                "externalId": _STRING,
                "pipelineId": _INTEGER,
            },
            "properties": {
                "account": _ACCOUNT,
                "name": _STRING,
                "externalId": _STRING,
                "pipelineId": _INTEGER,
                "sourceId": _INTEGER,
            },
            "requiredInputs": ["name", "externalId"],
        },
        WEBHOOK: {
            "inputProperties": {"account": _ACCOUNT, "destination": _STRING, "settings": _STRINGS},
            "properties": {
                "account": _ACCOUNT,
                "destination": _STRING,
                "settings": _STRINGS,
                "webhookId": _INTEGER,
            },
            "requiredInputs": ["destination", "settings"],
        },
    },
    "functions": {
        GET_ACCOUNT: {
            "inputs": {"properties": {"account": _ACCOUNT}},
            "outputs": {
                "properties": {"id": _INTEGER, "name": _STRING, "subdomain": _STRING, "amojoId": _STRING},
                "required": ["id", "name", "subdomain", "amojoId"],
            },
        }
    },
}
_ids = itertools.count(20_001)


def _type(urn: str) -> str:
    return urn.split("::")[2] if urn.count("::") >= 3 else ""


def _host(account: str) -> str:
    """An account's host as kommo writes it: a bare ``acme`` is ``acme.kommo.com``."""
    account = account.lower()
    return account if "." in account else f"{account}.kommo.com"


def _account(fields: Any, default: str) -> str:
    """The host of the ``account`` in ``fields``, else of the provider's default account."""
    given = fields.get("account")
    named = given is not None and given.WhichOneof("kind") == "string_value"
    return _host(given.string_value if named else default)


def _created(typ: str, inputs: struct_pb2.Struct) -> tuple[str, struct_pb2.Struct]:
    """The id and outputs a kommo resource of the same kind would answer with (placeholder values)."""
    if typ == CONNECTION:
        outputs = noop_plugin._outputs(inputs)
        return outputs.fields["scopeId"].string_value, outputs
    out = struct_pb2.Struct()
    out.CopyFrom(inputs)
    host = out.fields["account"].string_value
    if typ == SOURCE:
        source_id = next(_ids)
        out.update({"sourceId": source_id, "default": False, "originCode": None, "services": []})
        if "pipelineId" not in out.fields:
            out.update({"pipelineId": 7_000_001})
        return f"{host}/{source_id}", out
    webhook_id = next(_ids)
    out.update({"sort": 1, "disabled": False, "webhookId": webhook_id})
    return f"{host}/{webhook_id}", out


def _as_secret(value: struct_pb2.Value) -> struct_pb2.Value:
    """``value`` wrapped as Pulumi's secret marker, whatever its kind (a token, a map of tokens)."""
    wrapped = struct_pb2.Value()
    wrapped.struct_value.update({noop_plugin._SIG: noop_plugin._SECRET})
    wrapped.struct_value.fields["value"].CopyFrom(value)
    return wrapped


class NoopAccountProvider(noop_plugin.NoopProvider):
    """Answers every operation at once, with the shapes of the kommo plugin's account setup."""

    def __init__(self) -> None:
        self.subdomain = "example"

    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetSchema(self, request: Any, context: Any) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(schema=json.dumps(SCHEMA))

    def CheckConfig(self, request: provider_pb2.CheckRequest, context: Any) -> provider_pb2.CheckResponse:
        inputs = struct_pb2.Struct()
        inputs.CopyFrom(request.news)
        for name in ("channelSecret", "accessToken", "accessTokens"):  # as kommo: secrets even if plain
            value = inputs.fields.get(name)
            plain = value is not None and not (
                value.WhichOneof("kind") == "struct_value" and noop_plugin._SIG in value.struct_value.fields
            )
            if plain:
                inputs.fields[name].CopyFrom(_as_secret(value))
        return provider_pb2.CheckResponse(inputs=inputs)

    def Configure(
        self, request: provider_pb2.ConfigureRequest, context: Any
    ) -> provider_pb2.ConfigureResponse:
        domain = request.args.fields.get("accountDomain")
        if domain is not None and domain.WhichOneof("kind") == "string_value":
            self.subdomain = domain.string_value
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True)

    def Check(self, request: provider_pb2.CheckRequest, context: Any) -> provider_pb2.CheckResponse:
        inputs = struct_pb2.Struct()
        inputs.CopyFrom(request.news)
        typ = _type(request.urn)
        if typ == CONNECTION and "hookApiVersion" not in inputs.fields:
            inputs.update({"hookApiVersion": "v2"})
        if typ in (SOURCE, WEBHOOK):
            inputs.update({"account": _account(inputs.fields, self.subdomain)})
        return provider_pb2.CheckResponse(inputs=inputs)

    def Create(self, request: provider_pb2.CreateRequest, context: Any) -> provider_pb2.CreateResponse:
        id_, outputs = _created(_type(request.urn), request.properties)
        return provider_pb2.CreateResponse(id="" if request.preview else id_, properties=outputs)

    def Update(self, request: provider_pb2.UpdateRequest, context: Any) -> provider_pb2.UpdateResponse:
        return provider_pb2.UpdateResponse(properties=_created(_type(request.urn), request.news)[1])

    def Invoke(self, request: provider_pb2.InvokeRequest, context: Any) -> provider_pb2.InvokeResponse:
        answer = struct_pb2.Struct()
        host = _account(request.args.fields, self.subdomain)
        subdomain = host.split(".", 1)[0]
        amojo_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, host))
        answer.update({"id": 30_000_001, "name": subdomain, "subdomain": subdomain, "amojoId": amojo_id})
        return provider_pb2.InvokeResponse(**{"return": answer})


def install_launcher(bin_dir: Path) -> Path:
    """``pulumi-resource-benchnoopacct`` in ``bin_dir``: this interpreter running this module."""
    return noop_plugin.install_launcher(bin_dir, PACKAGE, "bench.noop_account_plugin")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    noop_plugin.serve(NoopAccountProvider())
