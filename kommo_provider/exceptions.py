"""The exceptions raised by kommo_provider, rooted at :class:`KommoError`.

::

    KommoError
    ├── ConfigurationError (also ValueError)     bad input: a field, and how to fix it
    ├── CliError                                 a ``kommo-chat`` command failed: one line, exit status 1
    │   ├── SecretError                          a secret is missing, unreadable or malformed
    │   └── UsageError                           an argument that parsed but cannot be used: exit status 2
    ├── OperationFailedError                     a resource's operation failed: one sentence for the user
    │   ├── ConnectionFailedError                connect or disconnect did not succeed, and why
    │   ├── KommoProviderError                   as the dynamic provider reports it
    │   └── PluginError                          as the kommo plugin reports it
    └── ApiError                                 a call to Kommo did not succeed: status, method, path
        ├── ChatApiError                         the Chat API (amojo) refused it
        │   ├── SignatureRejectedError     403   wrong channel secret or clock skew
        │   └── ChannelNotFoundError       404   the channel id is unknown to Kommo
        ├── RestApiError                         the REST API v4 refused it
        │   ├── TokenRejectedError         401   the access token is wrong, expired or revoked
        │   ├── ForbiddenError             403   the token may not do this (an admin-only call)
        │   └── ObjectNotFoundError        404   no such object, or another integration's
        ├── InvalidRequestError            400   Kommo rejected the data (its words attached)
        ├── RateLimitedError               429   still rate limited after the retries
        ├── ServerError                    5xx   still failing after the retries
        ├── UnexpectedResponseError              2xx whose body is not what the API documents
        └── TransportError                       no HTTP answer: DNS, refused, reset, timeout

No message, ``repr`` or attribute of these exceptions carries a secret (the channel secret, an access
token): provider errors reach users as full tracebacks, so they name fields, statuses and hints only.
"""

from __future__ import annotations

from typing import Any

from .model import render


class KommoError(Exception):
    """Base class of every error raised by this package."""


class ConfigurationError(KommoError, ValueError):
    """An input is missing or malformed; ``field`` names it and the message says how to fix it.

    ``reason`` may show the refused ``value`` where it says ``{got}``, as
    :func:`~kommo_provider.model.describe` allows (cut short, URL credentials hidden); :meth:`reason_for`
    withholds it when the value was a secret.
    """

    def __init__(self, field: str, reason: str, value: Any = None) -> None:
        self.field = field
        self.template = reason
        self.value = value
        self.reason = render(reason, value)
        super().__init__(f"{field}: {self.reason}")

    def reason_for(self, *, secret: bool) -> str:
        return render(self.template, self.value, secret=secret)


class CliError(KommoError):
    """A ``kommo-chat`` command could not do its job (unreadable file, no secret, unusable answer).

    The command line prints the message as one ``kommo-chat: error: ...`` line and exits with ``code``;
    the message names options, variables, fields and files, never a secret.
    """

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class SecretError(CliError):
    """A secret is missing, unreadable or malformed; the message says where to put it, not what it is."""


class UsageError(CliError):
    """An argument value that parsed but cannot be used, found after argparse: exit 2, like argparse."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=2)


class OperationFailedError(KommoError):
    """A resource's operation did not succeed; the message is one sentence without any secret."""


class ConnectionFailedError(OperationFailedError):
    """Connect or disconnect did not succeed; the message says which account and why."""


class KommoProviderError(OperationFailedError):
    """What the dynamic provider raises for the Pulumi user: one sentence, raised ``from None`` so no
    chained traceback buries it."""


class PluginError(OperationFailedError):
    """What the ``kommo`` plugin answers the engine with: one sentence, shown as the operation's error.

    ``properties`` names the input properties the failure is about, with a reason each; the plugin sends
    them to the engine as Pulumi's ``InputPropertiesError`` details.
    """

    def __init__(self, message: str, *, properties: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.properties = properties


class ApiError(KommoError):
    """A call to Kommo failed; carries the HTTP status (if any), method and path."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        details: str | None = None,
    ) -> None:
        where = f" ({method} {path})" if method and path else ""
        text = f"{message}{where}"
        if details:
            text += f": {details}"
        super().__init__(text)
        self.status = status
        self.method = method
        self.path = path
        self.details = details


class ChatApiError(ApiError):
    """The Chat API (amojo) refused a call for a reason of its own."""


class RestApiError(ApiError):
    """The REST API v4 refused a call for a reason of its own."""


class TokenRejectedError(RestApiError):
    """401: Kommo did not accept the access token (wrong, expired, or revoked with its integration)."""


class ForbiddenError(RestApiError):
    """403: the token's user may not do this (webhooks need an account admin)."""


class ObjectNotFoundError(RestApiError):
    """404: no such object for this token (it was deleted, or another integration owns it)."""


class SignatureRejectedError(ChatApiError):
    """403: amojo did not accept the signature (wrong channel secret, or a clock off by minutes)."""


class ChannelNotFoundError(ChatApiError):
    """404: the channel id is not known to amojo (or the host is the wrong one for the account)."""


class InvalidRequestError(ApiError):
    """400: Kommo rejected the request data; ``details`` holds what the server said, ``paths`` the
    fields its ``validation-errors`` named (``0.external_id``)."""

    def __init__(self, message: str, *, paths: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.paths = paths


class RateLimitedError(ApiError):
    """429 after the retries ran out."""


class ServerError(ApiError):
    """5xx after the retries ran out."""


class UnexpectedResponseError(ApiError):
    """A successful status whose body is not the JSON the API documents."""


class TransportError(ApiError):
    """No usable HTTP answer: the host could not be reached, the connection broke, or it timed out.

    ``sent`` says whether the request may have reached Kommo (a timeout or a connection lost while
    waiting for the answer): then Kommo may have acted, and a create must find out whether it did.
    """

    def __init__(self, message: str, *, sent: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.sent = sent
