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


class NoopConnectionProvider(NoopProvider):
    """Answers like the Kommo provider, with outputs of the same shape, and sends nothing."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {
            **props,
            "scope_id": f"{props['channel_id']}_{props['account_id']}",
            "title": props.get("title") or "Emulated channel",
            "hook_api_version": "v2",
            "is_time_window_disabled": False,
        }
        return CreateResult(id_=outs["scope_id"], outs=outs)


class NoopConnection(Resource, module="bench", name="NoopConnection"):
    """KommoChatChannelConnection's inputs and output shape, without the connect: the like-for-like floor."""

    scope_id: pulumi.Output[str]

    def __init__(
        self, name: str, *, channel_id: str, channel_secret: str, account_id: str, base_url: str
    ) -> None:
        props = {
            "channel_id": channel_id,
            "channel_secret": pulumi.Output.secret(channel_secret),
            "account_id": account_id,
            "title": None,
            "hook_api_version": "v2",
            "is_time_window_disabled": None,
            "base_url": base_url,
            "reconnect_triggers": None,
            "scope_id": None,
        }
        opts = pulumi.ResourceOptions(additional_secret_outputs=["channel_secret"])
        super().__init__(NoopConnectionProvider(), name, props, opts)


class BarePostProvider(NoopConnectionProvider):
    """Sends the bare signed connect (``requests.post`` with pre-signed headers, as ``bare`` in
    bench.provider_create does) from inside the provider process, then answers like the Kommo provider:
    the floor of a create that reaches the emulator, without any of the Kommo provider's code."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        import threading
        from datetime import datetime, timezone

        import requests

        from kommo_provider import signing

        local = _LOCAL.setdefault("sessions", threading.local())
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        path = f"/v2/origin/custom/{props['channel_id']}/connect"
        body = signing.encode_json({"account_id": props["account_id"], "hook_api_version": "v2"})
        headers = signing.signed_headers(
            props["channel_secret"], "POST", path, body, datetime.now(timezone.utc)
        )
        assert (
            session.post(props["base_url"] + path, data=body, headers=headers, timeout=5).status_code == 200
        )
        return super().create(props)


_LOCAL: dict[str, Any] = {}


class BarePost(Resource, module="bench", name="BarePost"):
    """NoopConnection whose create sends the bare signed connect: the floor of a create that reaches Kommo."""

    scope_id: pulumi.Output[str]

    def __init__(
        self, name: str, *, channel_id: str, channel_secret: str, account_id: str, base_url: str
    ) -> None:
        props = {
            "channel_id": channel_id,
            "channel_secret": pulumi.Output.secret(channel_secret),
            "account_id": account_id,
            "base_url": base_url,
            "scope_id": None,
        }
        opts = pulumi.ResourceOptions(additional_secret_outputs=["channel_secret"])
        super().__init__(BarePostProvider(), name, props, opts)
