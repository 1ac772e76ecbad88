"""The ``KommoChatChannelConnection`` Pulumi resource: one Kommo account connected to a chat channel.

Its keyword arguments, their stack config fallbacks and its outputs are the rows of
:data:`kommo_provider.connection.DYNAMIC_CONNECTION`; ``help(KommoChatChannelConnection)`` shows them.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import Resource

from .connection import DYNAMIC_CONNECTION
from .exceptions import ConfigurationError
from .model import Field, Kind
from .provider import SECRET_INPUTS, KommoChatChannelConnectionProvider, missing_reason

_PYTHON_TYPES = {
    Kind.STRING: str,
    Kind.BOOLEAN: bool,
    Kind.INTEGER: int,
    Kind.NUMBER: float,
    Kind.STRING_LIST: list[str],
    Kind.ANY: Any,
}


def _annotation(field: Field) -> Any:
    return _PYTHON_TYPES.get(field.kind, Any)


class KommoChatChannelConnection(Resource, module="kommo", name="ChatChannelConnection"):
    """Connects a Kommo account to a custom chat channel; ``scope_id`` feeds every later chat call.

    Arguments left out fall back to stack config: ``channel_id`` → ``kommo:channelId``,
    ``channel_secret`` → ``kommo:channelSecret`` (set it with ``--secret``), ``account_id`` →
    ``kommo:accountId``, ``base_url`` → ``kommo:baseUrl`` (default ``https://amojo.kommo.com``; also
    ``amocrm.ru``, ``amocrm.com`` or an emulator URL on 127.0.0.1).

    ``reconnect_triggers``: any change forces a fresh connect. Kommo disables the channel when the
    integration is disabled and needs a new connect after each reinstall; bump a value here (for
    example the reinstall date) to say "reinstalled" without touching anything else.

    ``title`` and ``is_time_window_disabled`` left out mean "keep what Kommo has".
    """

    scope_id: pulumi.Output[str]
    """The connection's id in amojo; every message and chat call for this account uses it."""

    if TYPE_CHECKING:
        # Every other output is an attribute too, one per row of the table (see __annotations__).
        def __getattr__(self, name: str) -> pulumi.Output[Any]: ...

    def __init__(
        self, resource_name: str, *, opts: pulumi.ResourceOptions | None = None, **args: Any
    ) -> None:
        arguments = {f.name for f in DYNAMIC_CONNECTION.inputs}
        unexpected = sorted(set(args) - arguments)
        if unexpected:
            raise TypeError(
                f"KommoChatChannelConnection() got an unexpected keyword argument {unexpected[0]!r}; "
                f"it takes {', '.join(sorted(arguments))}"
            )
        config = pulumi.Config("kommo")
        props: dict[str, Any] = {}
        for field in DYNAMIC_CONNECTION.inputs:
            value = args.get(field.name)
            if value is None and field.config_key:
                key = field.config_key.partition(":")[2]
                value = config.get_secret(key) if field.secret else config.get(key)
            if value is None and field.required:
                where = f"resource {resource_name!r}, config key {field.config_key}"
                raise ConfigurationError(field.name, f"{missing_reason(field.name)} ({where})")
            if value is None and field.default is not None:
                value = field.default
            # A secret field is secret even when given as a plain string: never in state in clear.
            props[field.name] = pulumi.Output.secret(value) if field.secret else value
        props[SECRET_INPUTS] = pulumi.Output.from_input(_secret_names(args))
        for field in DYNAMIC_CONNECTION.outputs:
            props.setdefault(field.name, None)
        secret_outputs = [f.name for f in DYNAMIC_CONNECTION.outputs if f.secret]
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=secret_outputs)
        )
        super().__init__(KommoChatChannelConnectionProvider(), resource_name, props, opts)


async def _secret_names(args: dict[str, Any]) -> list[str]:
    """The arguments the program made secret: the engine hands them to the provider in plain text, so the
    provider is told which values it must never show."""
    names = []
    for name, value in args.items():
        if await pulumi.Output.from_input(value).is_secret():
            names.append(name)
    return sorted(names)


KommoChatChannelConnection.__annotations__.update(
    {f.name: pulumi.Output[_annotation(f)] for f in DYNAMIC_CONNECTION.outputs}  # type: ignore[misc]
)
KommoChatChannelConnection.__init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("resource_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
        *(
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=f.default,
                annotation=pulumi.Input[_annotation(f)] | None,  # type: ignore[misc]
            )
            for f in DYNAMIC_CONNECTION.inputs
        ),
        inspect.Parameter(
            "opts", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=pulumi.ResourceOptions | None
        ),
    ]
)
