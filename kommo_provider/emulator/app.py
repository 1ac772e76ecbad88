"""The emulator's WSGI app: routes a werkzeug request to the API it belongs to, with faults and the log.

Each emulated API (amojo, REST v4, the admin routes) is a *service*: a route table, one handler method
per operation, and its own way of wording an error. The app does what a gateway in front of them does:
reads the body (413 over 1 MiB), applies the rate limiter and the injected faults to API routes, logs
API requests with the status they got, and stamps every answer with the emulator clock's ``Date``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Final, Protocol

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from kommo_provider.emulator.faults import FaultPlan
from kommo_provider.emulator.http import (
    CLOSE_CONNECTION,
    MAX_BODY_BYTES,
    RESET_CONNECTION,
    EmulatorRequest,
    EmulatorResponse,
    Handler,
    Route,
    ServiceError,
)
from kommo_provider.emulator.requestlog import RecordedRequest, RequestLog

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

GARBAGE_BODY: Final = b"<html>not json"
ADMIN_PREFIX: Final = "/_emulator"


class Service(Protocol):
    """What the app needs from an emulated API besides its handler methods."""

    routes: tuple[Route, ...]

    def error(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> EmulatorResponse:
        """An error answer in this API's format (used for faults, 405 and unreadable bodies)."""

    def rate_limit_key(self, request: EmulatorRequest, params: Mapping[str, str]) -> str | None:
        """Whose bucket the request draws from, worded for the 429 message; ``None``: no limit."""

    def logged_headers(self, request: EmulatorRequest) -> dict[str, str]:
        """The request headers as the request log keeps them (without any secret)."""


class EmulatorApp:
    """A WSGI application serving the given services; the first one words errors for unknown paths."""

    def __init__(
        self,
        services: Sequence[Service],
        *,
        faults: FaultPlan,
        request_log: RequestLog,
        now: Callable[[], datetime],
    ) -> None:
        """``now`` is the emulator clock (:func:`~.faults.skewed_clock`): answers' ``Date`` and log times."""
        self.services = tuple(services)
        self.faults = faults
        self.request_log = request_log
        self.now = now
        self._routes = tuple((route, service) for service in self.services for route in service.routes)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = EmulatorRequest(environ)
        response = self.dispatch(request)
        response.headers["Date"] = formatdate(self.now().timestamp(), usegmt=True)
        return response(environ, start_response)

    def dispatch(self, request: EmulatorRequest) -> EmulatorResponse:
        """Route one request and return its answer (or mark the connection for a reset)."""
        path = request.raw_path
        route, service, params = self._match(path)
        unreadable = self._read_body(request, service)
        if unreadable is not None:
            return unreadable
        if route is None:
            # fcritic's client reads an empty 4xx body as "invalid URI"; keep it empty here.
            response = EmulatorResponse(status=HTTPStatus.NOT_FOUND)
            if not (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")):
                self._record(request, response, None, service)
            return response
        if not route.api:
            return self._call(service, route, params, request)
        response, fault = self._call_api(service, route, params, request)
        self._record(request, response, fault, service)
        return response

    def _match(self, path: str) -> tuple[Route | None, Service, dict[str, str]]:
        for route, service in self._routes:
            found = route.pattern.match(path)
            if found is not None:
                return route, service, found.groupdict()
        return None, self.services[0], {}

    def _read_body(self, request: EmulatorRequest, service: Service) -> EmulatorResponse | None:
        """Read the whole body now (handlers and the log use it); an error answer if it cannot be read.

        After such an error the rest of the body is still on the wire, so the connection is closed.
        """
        try:
            declared = request.content_length or 0
            if declared > MAX_BODY_BYTES or len(request.get_data()) > MAX_BODY_BYTES:
                raise RequestEntityTooLarge
        except RequestEntityTooLarge:
            request.environ[CLOSE_CONNECTION] = True
            too_large = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            return service.error(too_large, "BAD_REQUEST", "Request body is over 1 MiB")
        except (BadRequest, OSError):
            # A client that went away mid-body (werkzeug's ClientDisconnected) or a malformed chunk.
            request.environ[CLOSE_CONNECTION] = True
            return service.error(HTTPStatus.BAD_REQUEST, "BAD_REQUEST", "Request body could not be read")
        return None

    def _call_api(
        self, service: Service, route: Route, params: Mapping[str, str], request: EmulatorRequest
    ) -> tuple[EmulatorResponse, str | None]:
        """Rate limiter and faults first, as a gateway in front of Kommo would, then the handler.

        A fault of :data:`~.faults.AFTER_COMMIT` lets the handler run (its change stays) and then
        replaces, drops or delays the answer.
        """
        limited = service.rate_limit_key(request, params)
        if limited is not None and not self.faults.rate_limiter.allow(limited):
            detail = f"Too many requests for {limited}; retry after {self.faults.retry_after} s"
            return self._too_many(service, detail), "rate_limit"
        fault = self.faults.next_fault()
        refused = self._before(service, request, fault)
        if refused is not None:
            return refused, fault
        response = self._call(service, route, params, request)
        return self._after(service, request, response, fault), fault

    def _before(
        self, service: Service, request: EmulatorRequest, fault: str | None
    ) -> EmulatorResponse | None:
        """The answer a fault gives instead of running the handler, or ``None`` to run it."""
        if fault == "delay":
            time.sleep(self.faults.delay_seconds)
        elif fault == "reset":
            request.environ[RESET_CONNECTION] = True
            return EmulatorResponse(status=HTTPStatus.OK)
        elif fault == "garbage":
            return EmulatorResponse(GARBAGE_BODY, status=HTTPStatus.OK, content_type="text/html")
        elif fault == "429":
            detail = f"Too many requests (injected fault); retry after {self.faults.retry_after} s"
            return self._too_many(service, detail)
        elif fault == "500":
            return self._server_error(service, "Internal server error (injected fault)")
        elif fault == "503":
            detail = "Service temporarily unavailable (injected fault)"
            return service.error(HTTPStatus.SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", detail)
        return None

    def _after(
        self, service: Service, request: EmulatorRequest, response: EmulatorResponse, fault: str | None
    ) -> EmulatorResponse:
        """The answer once the handler ran: replaced (500), dropped (reset) or late (delay)."""
        if fault == "500-after":
            return self._server_error(service, "Internal server error (injected fault, after the change)")
        if fault == "reset-after":
            request.environ[RESET_CONNECTION] = True
        elif fault == "delay-after":
            time.sleep(self.faults.delay_seconds)
        return response

    def _server_error(self, service: Service, detail: str) -> EmulatorResponse:
        return service.error(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", detail)

    def _too_many(self, service: Service, detail: str) -> EmulatorResponse:
        headers = {"Retry-After": str(self.faults.retry_after)}
        return service.error(HTTPStatus.TOO_MANY_REQUESTS, "RATE_LIMITED", detail, headers)

    def _call(
        self, service: Service, route: Route, params: Mapping[str, str], request: EmulatorRequest
    ) -> EmulatorResponse:
        """Run the route's handler for the method; 405 if the route has none for it."""
        name = route.methods.get(request.method.upper())
        if name is None:
            allowed = ", ".join(sorted(route.methods))
            return service.error(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                f"Method {request.method} is not allowed here; use {allowed}",
                {"Allow": allowed},
            )
        handler: Handler = getattr(service, name)
        try:
            return handler(request, params)
        except ServiceError as error:
            return error.to_response()

    def _record(
        self, request: EmulatorRequest, response: EmulatorResponse, fault: str | None, service: Service
    ) -> None:
        reset = bool(request.environ.get(RESET_CONNECTION))
        self.request_log.record(
            RecordedRequest(
                method=request.method,
                path=request.target,
                headers=service.logged_headers(request),
                body=request.body.decode("utf-8", errors="replace"),
                status=0 if reset else response.status_code,
                fault=fault,
                received_at=self.now().timestamp(),
            )
        )
