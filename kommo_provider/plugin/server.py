"""Pulumi's ResourceProvider gRPC service for the ``kommo`` package, over :mod:`.adapter`.

The stable generated service (``pulumi.runtime.proto``) is used directly, not the SDK's experimental
provider API: that one cannot send unknown values, mis-reports DiffConfig, and wraps every error in
a Python traceback. Each method here only converts protocol messages to plain values and back; an
expected failure reaches the user as the one sentence the adapter wrote.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any, Final, TypeVar

import grpc
from google.protobuf import empty_pb2
from google.rpc import status_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    plugin_pb2,
    provider_pb2,
    provider_pb2_grpc,
)

from ..claims import Claims
from ..exceptions import KommoError, PluginError
from ..resources import REGISTRY, Registry
from . import config
from .config import ProviderConfig
from .diffs import Diff, DiffKind
from .resources import PluginFunction, PluginResource, Props
from .schema import schema_json, version
from .wire import from_struct, to_struct

log = logging.getLogger("kommo_provider")

MAX_WORKERS: Final = 32
"""Concurrent operations; the client's pacer, not this pool, keeps Kommo's rate limit."""
_GRPC_OPTIONS: Final = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.max_send_message_length", 400 * 1024 * 1024),
]
_KINDS: Final = {
    (DiffKind.ADD, False): provider_pb2.PropertyDiff.ADD,
    (DiffKind.ADD, True): provider_pb2.PropertyDiff.ADD_REPLACE,
    (DiffKind.DELETE, False): provider_pb2.PropertyDiff.DELETE,
    (DiffKind.DELETE, True): provider_pb2.PropertyDiff.DELETE_REPLACE,
    (DiffKind.UPDATE, False): provider_pb2.PropertyDiff.UPDATE,
    (DiffKind.UPDATE, True): provider_pb2.PropertyDiff.UPDATE_REPLACE,
}

Request = TypeVar("Request")
Response = TypeVar("Response")
Method = Callable[[Any, Request, grpc.ServicerContext], Response]


def _one_sentence(method: Method[Request, Response]) -> Method[Request, Response]:
    """Turn a failure into a gRPC error whose text is one sentence, nothing more.

    An expected failure (a :class:`KommoError`) says what went wrong and how to fix it. Anything else is
    a defect: its type is named, but not its message, which could carry a value from state or a secret;
    the traceback goes to the debug log.
    """

    def wrapper(self: Any, request: Request, context: grpc.ServicerContext) -> Response:
        try:
            return method(self, request, context)
        except KommoError as exc:
            properties = exc.properties if isinstance(exc, PluginError) else ()
            if properties:
                context.abort_with_status(_with_properties(str(exc), properties))
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
            raise  # not reached: abort raises
        except Exception as exc:
            if isinstance(exc, grpc.RpcError):  # context.abort's own exception
                raise
            log.debug("%s failed", method.__name__, exc_info=True)
            context.abort(
                grpc.StatusCode.INTERNAL,
                f"the kommo provider failed in {method.__name__} with an unexpected {type(exc).__name__}; "
                "this is a defect of the provider, not of your program",
            )
            raise  # not reached: abort raises

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class _Status(grpc.Status):  # type: ignore[misc]  # grpc.Status is an abstract interface to fill in
    def __init__(
        self, code: grpc.StatusCode, details: str, trailing_metadata: tuple[tuple[str, bytes], ...]
    ) -> None:
        self.code = code
        self.details = details
        self.trailing_metadata = trailing_metadata


def _with_properties(message: str, properties: tuple[tuple[str, str], ...]) -> grpc.Status:
    """A failure with Pulumi's ``InputPropertiesError`` details: the engine can show each reason beside
    its property."""
    details = errors_pb2.InputPropertiesError(
        errors=[
            errors_pb2.InputPropertiesError.PropertyError(property_path=p, reason=r) for p, r in properties
        ]
    )
    status = status_pb2.Status(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message=message)
    status.details.add().Pack(details)
    metadata = (("grpc-status-details-bin", status.SerializeToString()),)
    return _Status(grpc.StatusCode.INVALID_ARGUMENT, message, metadata)


def _diff_response(diff: Diff) -> provider_pb2.DiffResponse:
    return provider_pb2.DiffResponse(
        changes=provider_pb2.DiffResponse.DIFF_SOME if diff.changes else provider_pb2.DiffResponse.DIFF_NONE,
        replaces=list(diff.replaces),
        stables=list(diff.stables),
        deleteBeforeReplace=diff.delete_before_replace,
        diffs=list(diff.detailed),
        detailedDiff={
            key: provider_pb2.PropertyDiff(kind=_KINDS[change], inputDiff=key not in diff.output_only)
            for key, change in diff.detailed.items()
        },
        hasDetailedDiff=True,
    )


def _failures(found: list[tuple[str, str]]) -> list[provider_pb2.CheckFailure]:
    return [provider_pb2.CheckFailure(property=prop, reason=reason) for prop, reason in found]


class KommoProvider(provider_pb2_grpc.ResourceProviderServicer):
    """One configured ``kommo`` provider: the engine starts a process per provider resource, and one
    provider serves every account of a fleet."""

    def __init__(self, registry: Registry = REGISTRY, claims: Claims | None = None) -> None:
        self._config: ProviderConfig | None = None
        self._claims = claims or Claims(None)
        self._resources = {r.model.token: PluginResource(r) for r in registry.resources}
        self._functions = {f.model.token: PluginFunction(f) for f in registry.functions}

    def _configured(self) -> ProviderConfig:
        if self._config is None:
            raise PluginError("the kommo provider was used before it was configured")
        return self._config

    def _resource(self, urn: str) -> PluginResource:
        typ = urn.split("::")[2] if urn.count("::") >= 3 else ""
        resource = self._resources.get(typ)
        if resource is None:
            served = ", ".join(self._resources)
            raise PluginError(f"the kommo provider has no resource type {typ!r}; it serves {served}")
        return resource

    # -- the plugin and its configuration ----------------------------------------------------------

    def GetPluginInfo(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=version())

    def GetSchema(
        self, request: provider_pb2.GetSchemaRequest, context: grpc.ServicerContext
    ) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(schema=schema_json())

    @_one_sentence
    def CheckConfig(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        inputs, failures = config.check_config(from_struct(request.news))
        return provider_pb2.CheckResponse(inputs=to_struct(inputs), failures=_failures(failures))

    @_one_sentence
    def DiffConfig(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        olds = (
            from_struct(request.old_inputs) if request.HasField("old_inputs") else from_struct(request.olds)
        )
        return _diff_response(config.diff_config(olds, from_struct(request.news)))

    @_one_sentence
    def Configure(
        self, request: provider_pb2.ConfigureRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ConfigureResponse:
        if request.HasField("args"):
            args = from_struct(request.args)
        else:  # an engine that only sends the flat `kommo:config:<key>` strings
            args = {k.rpartition(":")[2]: v for k, v in request.variables.items()}
        self._config = config.configure(args, self._claims)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=False, acceptOutputs=False
        )

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    # -- functions and resources -------------------------------------------------------------------

    @_one_sentence
    def Invoke(
        self, request: provider_pb2.InvokeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.InvokeResponse:
        """``kommo.getAccount()`` and ``kommo.getPipelines()``: reads, so they run in previews too."""
        function = self._functions.get(request.tok)
        if function is None:
            served = ", ".join(self._functions)
            raise PluginError(f"the kommo provider has no function {request.tok!r}; it serves {served}")
        args = Props.decode(function.model, from_struct(request.args))
        result, failures = function.invoke(self._configured(), args)
        return provider_pb2.InvokeResponse(failures=_failures(failures), **{"return": to_struct(result)})

    @_one_sentence
    def Check(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        resource = self._resource(request.urn)
        news = Props.decode(resource.model, from_struct(request.news))
        inputs, failures = resource.check(self._config, request.urn, news)
        return provider_pb2.CheckResponse(inputs=to_struct(inputs), failures=_failures(failures))

    @_one_sentence
    def Diff(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        resource = self._resource(request.urn)
        olds = Props.decode(resource.model, from_struct(request.olds))
        news = Props.decode(resource.model, from_struct(request.news))
        return _diff_response(resource.diff(self._configured(), request.urn, request.id, olds, news))

    @_one_sentence
    def Create(
        self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        resource, settings = self._resource(request.urn), self._configured()
        news = Props.decode(resource.model, from_struct(request.properties))
        if request.preview:
            return provider_pb2.CreateResponse(
                id="", properties=to_struct(resource.preview_create(settings, news))
            )
        id_, outputs = resource.create(settings, request.urn, news)
        return provider_pb2.CreateResponse(id=id_, properties=to_struct(outputs))

    @_one_sentence
    def Update(
        self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        resource, settings = self._resource(request.urn), self._configured()
        olds = Props.decode(resource.model, from_struct(request.olds))
        news = Props.decode(resource.model, from_struct(request.news))
        if request.preview:
            outputs = resource.preview_update(settings, request.id, olds, news)
        else:
            outputs = resource.update(settings, request.urn, request.id, olds, news)
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    @_one_sentence
    def Delete(self, request: provider_pb2.DeleteRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        resource = self._resource(request.urn)
        olds = Props.decode(resource.model, from_struct(request.properties))
        resource.delete(self._configured(), request.urn, request.id, olds)
        return empty_pb2.Empty()

    @_one_sentence
    def Read(
        self, request: provider_pb2.ReadRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ReadResponse:
        """Refresh reads the object back (an empty id: it is gone); import, which sends only the id,
        reads the whole object from it."""
        resource, settings = self._resource(request.urn), self._configured()
        properties = from_struct(request.properties)
        if properties:
            olds = Props.decode(resource.model, properties)
            given = Props.decode(resource.model, from_struct(request.inputs))
            found = resource.read(settings, request.urn, request.id, olds, given)
        else:
            found = resource.import_(settings, request.urn, request.id)
        if found is None:
            return provider_pb2.ReadResponse(id="")
        id_, outputs, inputs = found
        return provider_pb2.ReadResponse(id=id_, properties=to_struct(outputs), inputs=to_struct(inputs))


class EngineLogHandler(logging.Handler):
    """Sends log records to the engine, which shows them with the operation; stderr of a plugin is hidden.

    Warnings by default; ``KOMMO_PROVIDER_LOG_LEVEL=DEBUG`` adds a line per request (method, path, status
    and time, never a secret), which the CLI shows with ``--debug``.
    """

    _SEVERITY: Final = {
        logging.DEBUG: engine_pb2.DEBUG,
        logging.INFO: engine_pb2.INFO,
        logging.WARNING: engine_pb2.WARNING,
        logging.ERROR: engine_pb2.ERROR,
    }

    def __init__(self, engine_address: str, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._engine = engine_pb2_grpc.EngineStub(
            grpc.insecure_channel(engine_address, options=_GRPC_OPTIONS)
        )

    def emit(self, record: logging.LogRecord) -> None:
        severity = self._SEVERITY.get(record.levelno, engine_pb2.WARNING)
        # If the engine is going away, the message has nowhere to go.
        with contextlib.suppress(grpc.RpcError):
            self._engine.Log(engine_pb2.LogRequest(severity=severity, message=self.format(record)), timeout=5)


def log_level() -> int:
    """The level ``KOMMO_PROVIDER_LOG_LEVEL`` names (DEBUG, INFO, WARNING, ERROR); WARNING otherwise."""
    named = logging.getLevelName(os.environ.get("KOMMO_PROVIDER_LOG_LEVEL", "WARNING").strip().upper())
    return named if isinstance(named, int) else logging.WARNING


def serve(engine_address: str | None, *, port: int = 0, ready: Callable[[int], None] | None = None) -> None:
    """Serve until the engine stops the process; prints the port on stdout, as the engine expects."""
    if engine_address:
        level = log_level()
        log.addHandler(EngineLogHandler(engine_address, level))
        log.setLevel(level)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=MAX_WORKERS), options=_GRPC_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(
        KommoProvider(REGISTRY, Claims.for_run(engine_address)), server
    )
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    if ready is None:
        sys.stdout.write(f"{bound}\n")
        sys.stdout.flush()
    else:
        ready(bound)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):  # a timeout, so the signal handlers get to run promptly
        pass
    server.stop(grace=2).wait()
