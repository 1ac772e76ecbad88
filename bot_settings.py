"""``BotSettingsFile``: the settings file a chat-bot service reads, built from connection outputs.

A bot needs each account's ``scope_id`` to send messages and create chats, and Kommo posts webhooks
to the channel's URL with the scope_id in its path. This resource writes both into one JSON file,
which is how the example stack (``__main__.py`` beside this module) shows ``scope_id`` flowing to a
downstream consumer. It belongs to that example, not to the installed package: the dynamic provider
process imports it from the project folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Final

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

RESOURCE_TYPE: Final = "pulumi-python:dynamic/kommo:BotSettingsFile"
FORMER_MODULE: Final = "kommo_provider.bot_settings"
"""Where this module lived when it shipped inside the package: state written then pickles the
provider by reference to it (``stack_runner.LocalStack.repoint_moved_provider`` updates it)."""


def _write(path: str, settings: dict[str, Any]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(settings, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, target)


class BotSettingsFileProvider(ResourceProvider):
    """Writes the file on create/update and removes it on delete."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        _write(props["path"], props["settings"])
        return CreateResult(id_=os.path.abspath(props["path"]), outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = ["path"] if olds.get("path") != news.get("path") else []
        changed = bool(replaces) or olds.get("settings") != news.get("settings")
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _write(news["path"], news["settings"])
        return UpdateResult(outs=dict(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        Path(props["path"]).unlink(missing_ok=True)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=dict(props))


class BotSettingsFile(Resource, module="kommo", name="BotSettingsFile"):
    """A JSON file with one entry per account: its scope_id and the webhook URL Kommo calls."""

    path: pulumi.Output[str]
    settings: pulumi.Output[dict[str, Any]]

    def __init__(
        self,
        resource_name: str,
        *,
        path: pulumi.Input[str],
        settings: pulumi.Input[dict[str, Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(BotSettingsFileProvider(), resource_name, {"path": path, "settings": settings}, opts)
