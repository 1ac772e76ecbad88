"""Upgrade tests: state an earlier release wrote previews with no replacement under the current code.

As Pulumi's own providers are tested with providertest (``PreviewProviderUpgrade``, then
``assertpreview.HasNoReplacements``): ``tests/fixtures/upgrade`` holds, per stack, what the earlier
release wrote (the ``pulumi stack export``, the stack config file, the program and the emulator's
connections afterwards; its README says which release and how to record them again). Each test starts
an emulator holding those connections, imports the state into a fresh local backend, and runs
``preview``, ``up``, ``refresh`` and ``destroy`` with this checkout: the dynamic provider from its
sources, and the ``kommo`` plugin as ``pulumi-resource-kommo`` from .venv, under the real CLI.
"""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from pulumi import automation as auto

import kommo_provider
from kommo_provider.emulator import EmulatorServer
from stack_runner import LocalStack

# The fixtures' description (stacks, channels, passphrase) lives beside them, for the recorder too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "upgrade"))

from upgrade_stacks import (
    CHANNELS,
    DYNAMIC,
    FIXTURES_DIR,
    PASSPHRASE,
    PLUGIN,
    STACK,
    STACKS,
    STATE_EXPORT,
    FixtureStack,
    pinned,
    pinned_versions,
    rebased,
    recorded_connections,
)

pytestmark = pytest.mark.e2e

CONNECTION_TYPES: Final = {
    "pulumi-python:dynamic/kommo:ChatChannelConnection",
    "kommo:index:ChatChannelConnection",
}
REPLACEMENT_OPS: Final = {
    "replace",
    "create-replacement",
    "delete-replaced",
    "discard-replaced",
    "read-replacement",
    "import-replacement",
}
"""Step kinds that mean a resource is replaced (``assertpreview.HasNoReplacements`` checks the same)."""


@dataclass(frozen=True)
class Step:
    """One step of a preview, as the engine announced it."""

    op: str
    urn: str
    type: str
    diffs: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def __str__(self) -> str:
        changed = f" {list(self.diffs)}" if self.diffs else ""
        return f"{self.op} {self.type} {self.name}{changed}"


def recorded_export(spec: FixtureStack) -> dict[str, Any]:
    export: dict[str, Any] = json.loads((spec.dir / STATE_EXPORT).read_text(encoding="utf-8"))
    return export


def recorded_resources(spec: FixtureStack) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = recorded_export(spec)["deployment"]["resources"]
    return resources


def recorded_outputs(spec: FixtureStack) -> dict[str, Any]:
    [stack] = [r for r in recorded_resources(spec) if r["type"] == "pulumi:pulumi:Stack"]
    outputs: dict[str, Any] = stack["outputs"]
    return outputs


def recorded_plugin_version(spec: FixtureStack) -> str:
    [version] = pinned_versions((spec.dir / spec.program).read_text(encoding="utf-8"))
    return version


def _urn_version(version: str) -> str:
    return version.replace(".", "_")


def as_written_by(export: str, recorded: str, version: str) -> str:
    """A plugin stack's export as if plugin ``version`` had written it instead of ``recorded``: the
    providers' ``version`` input and the default provider's URN, which names the version."""
    changed = export.replace(f'"version": "{recorded}"', f'"version": "{version}"')
    changed = changed.replace(f"::default_{_urn_version(recorded)}_", f"::default_{_urn_version(version)}_")
    assert changed.count(f"::default_{_urn_version(version)}_") >= 2, "no default provider renamed"
    return changed


def disconnects(emulator: EmulatorServer) -> list[tuple[str, int]]:
    """(channel id, status) of every disconnect the emulator received."""
    return [
        (r.path.split("/")[-2], r.status)
        for r in emulator.backend.requests()
        if r.method == "DELETE" and r.path.endswith("/disconnect")
    ]


def replay_connections(emulator: EmulatorServer, spec: FixtureStack) -> int:
    """Put the recorded connections into the emulator, as Kommo would still hold them; returns how many
    are connected."""
    connected = 0
    for recorded in recorded_connections(spec):
        made = emulator.backend.connect(
            recorded["channel_id"],
            recorded["account_id"],
            recorded["title"],
            recorded["hook_api_version"],
            recorded["is_time_window_disabled"],
        )
        # The current emulator keeps UUIDs in lower case; the earlier one kept them as sent.
        assert made.scope_id == recorded["scope_id"].lower()
        if recorded["connected"]:
            connected += 1
        else:
            emulator.backend.disconnect(recorded["channel_id"], recorded["account_id"])
    assert emulator.backend.requests() == [], "replaying state must not look like an API request"
    return connected


class UpgradedStack:
    """A fixture's stack imported into a fresh local file backend, run by the current code."""

    def __init__(
        self, spec: FixtureStack, root: Path, base_url: str, *, state_plugin_version: str | None = None
    ) -> None:
        """``state_plugin_version``: make the state say another plugin version wrote it (see
        :func:`as_written_by`)."""
        self.spec = spec
        work_dir = root / "work"
        work_dir.mkdir(parents=True)
        config = rebased(spec.config_file.read_text(encoding="utf-8"), base_url)
        (work_dir / spec.config_file.name).write_text(config, encoding="utf-8")
        program: Callable[[], None] | None = None
        if spec.inline:
            program = _inline(spec.dir / spec.program)
        else:  # the one edit a user makes on upgrading: the plugin version the program names
            source = pinned((spec.dir / spec.program).read_text(encoding="utf-8"), kommo_provider.__version__)
            (work_dir / spec.program).write_text(source, encoding="utf-8")
        self.local = LocalStack(STACK, program, state_dir=root / "state", passphrase=PASSPHRASE,
                                work_dir=work_dir)  # fmt: skip
        state = root / STATE_EXPORT
        text = rebased((spec.dir / STATE_EXPORT).read_text(encoding="utf-8"), base_url)
        if state_plugin_version is not None:
            text = as_written_by(text, recorded_plugin_version(spec), state_plugin_version)
        state.write_text(text, encoding="utf-8")
        self.local.run_cli(["stack", "import", "--file", str(state), "--stack", STACK])

    @property
    def stack(self) -> auto.Stack:
        return self.local.stack

    def preview_steps(self) -> list[Step]:
        steps: list[Step] = []

        def on_event(event: auto.EngineEvent) -> None:
            if event.resource_pre_event is not None:
                m = event.resource_pre_event.metadata
                steps.append(Step(m.op.value, m.urn, m.type, tuple(m.diffs or ())))

        self.stack.preview(on_event=on_event)
        return steps

    def resources(self) -> list[dict[str, Any]]:
        deployment = self.stack.export_stack().deployment or {}
        resources: list[dict[str, Any]] = deployment.get("resources", [])
        return resources


def _inline(program: Path) -> Callable[[], None]:
    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")

    return run


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """An emulator of its own that knows both fixture channels (the session one knows one)."""
    with EmulatorServer(dict(CHANNELS), port=0) as server:
        yield server


def test_fixtures_hold_no_channel_secret_in_plain_text() -> None:
    """Secrets reach the fixtures only encrypted: config as ``secure:`` values, state as ciphertext."""
    files = [p for p in FIXTURES_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) >= 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        for secret in CHANNELS.values():
            assert secret not in text, f"a channel secret in plain text in {path.relative_to(FIXTURES_DIR)}"
    for spec in STACKS:
        config = spec.config_file.read_text(encoding="utf-8")
        assert "encryptionsalt:" in config
        assert config.count("secure: v1:") == len(spec.secret_config)
        export = (spec.dir / STATE_EXPORT).read_text(encoding="utf-8")
        assert '"ciphertext"' in export and '"plaintext"' not in export, "a secret in the state in clear"


def _assert_up_refresh_destroy(upgraded: UpgradedStack, emulator: EmulatorServer, connected: int) -> None:
    """``up`` succeeds, sends nothing (above all no disconnect) and keeps every scope id; ``refresh``
    sends nothing and leaves nothing to change; ``destroy`` disconnects every account the state holds."""
    spec = upgraded.spec
    up = upgraded.stack.up()
    assert up.summary.result == "succeeded"
    assert disconnects(emulator) == [], "up after the upgrade disconnected an account"
    assert emulator.backend.requests() == [], "up after the upgrade called the Chat API"
    assert upgraded.local.outputs() == recorded_outputs(spec)
    assert len(emulator.backend.connections()) == connected

    upgraded.stack.refresh()
    assert emulator.backend.requests() == [], "refresh must not call the Chat API"
    upgraded.stack.preview(expect_no_changes=True)

    upgraded.stack.destroy()
    assert emulator.backend.connections() == [], "destroy left an account connected"
    assert [status for _, status in disconnects(emulator)] == [200] * connected
    assert sorted(channel for channel, _ in disconnects(emulator)) == sorted(
        c["channel_id"] for c in recorded_connections(spec) if c["connected"]
    )
    assert upgraded.resources() == []


def test_dynamic_resource_state_previews_no_change(emulator: EmulatorServer, tmp_path: Path) -> None:
    """State the earlier release's dynamic resource wrote: nothing to change at all, then the full cycle."""
    connected = replay_connections(emulator, DYNAMIC)
    upgraded = UpgradedStack(DYNAMIC, tmp_path, emulator.url)

    steps = upgraded.preview_steps()
    shown = "\n".join(map(str, steps))
    assert not [s for s in steps if s.op in REPLACEMENT_OPS], f"replacements after the upgrade:\n{shown}"
    assert {s.op for s in steps} == {"same"}, f"the upgrade changes the stack:\n{shown}"
    assert sorted(s.urn for s in steps) == sorted(r["urn"] for r in recorded_resources(DYNAMIC))
    assert sum(s.type in CONNECTION_TYPES for s in steps) == connected == 2
    assert emulator.backend.requests() == [], "preview must not call the Chat API"

    _assert_up_refresh_destroy(upgraded, emulator, connected)


OLDER_PLUGIN_VERSION: Final = "0.1.0"
"""A plugin version this checkout will not have again (see the plugin test's ``older`` case)."""


@pytest.mark.parametrize("state_plugin_version", [None, OLDER_PLUGIN_VERSION], ids=["as-recorded", "older"])
def test_plugin_state_previews_no_replacement(
    emulator: EmulatorServer, tmp_path: Path, state_plugin_version: str | None
) -> None:
    """State the earlier release's plugin wrote, through an explicit provider and the default one.

    No connection changes. What else the preview may show is the default provider: its URN names the
    plugin version (``default_<version>_<download URL>``), so when this checkout's version differs from
    the one that wrote the state, the preview creates the new version's default provider, moves the
    connections to it with no diff of their own, and deletes the old one; ``up`` sends nothing for that.
    The explicit provider keeps its URN, and its ``version`` input is not part of its configuration's
    plan, so it stays the same. The ``older`` case makes the recorded state name another plugin version,
    so that path runs whatever version this checkout has; ``as-recorded`` takes it once the version in
    ``kommo_provider/__init__.py`` moves past the recorded one.
    """
    connected = replay_connections(emulator, PLUGIN)
    upgraded = UpgradedStack(PLUGIN, tmp_path, emulator.url, state_plugin_version=state_plugin_version)
    written_by = state_plugin_version or recorded_plugin_version(PLUGIN)

    steps = upgraded.preview_steps()
    shown = "\n".join(map(str, steps))
    assert not [s for s in steps if s.op in REPLACEMENT_OPS], f"replacements after the upgrade:\n{shown}"
    connections = [s for s in steps if s.type in CONNECTION_TYPES]
    assert len(connections) == connected == 4
    assert {s.op for s in connections} == {"same"}, f"a connection changes after the upgrade:\n{shown}"
    changed = [s for s in steps if s.op != "same"]
    if written_by == kommo_provider.__version__:
        assert changed == [], f"the upgrade changes the stack:\n{shown}"
    else:
        assert [(s.op, s.type) for s in changed] == [
            ("create", "pulumi:providers:kommo"),
            ("delete", "pulumi:providers:kommo"),
        ], f"more than the default provider's version changes:\n{shown}"
        created, deleted = changed
        assert created.name.startswith(f"default_{_urn_version(kommo_provider.__version__)}_")
        assert deleted.name.startswith(f"default_{_urn_version(written_by)}_")
    assert emulator.backend.requests() == [], "preview must not call the Chat API"

    _assert_up_refresh_destroy(upgraded, emulator, connected)
