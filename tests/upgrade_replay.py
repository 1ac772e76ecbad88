"""Replays an upgrade fixture under the current code: its state in a fresh backend, its Kommo in an emulator.

``tests/fixtures/upgrade/<release>/<stack>/`` holds what an earlier release wrote (its README says
what and how to record it again). :class:`UpgradedStack` imports that state into a fresh local file
backend, to be run with this checkout; :func:`replay_connections` and :func:`replay_accounts` put what
Kommo held afterwards into a current emulator, as Kommo would still hold it, without one API request.
"""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

import kommo_provider
from kommo_provider.emulator import AccountSpec, EmulatorServer
from stack_runner import LocalStack

# The fixtures' description (stacks, channels, passphrase) lives beside them, for the recorder too.
sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "upgrade"))

from upgrade_stacks import (
    PASSPHRASE,
    STACK,
    STATE_EXPORT,
    FixtureAccount,
    FixtureStack,
    pinned,
    pinned_versions,
    rebased,
    recorded_connections,
    recorded_kommo,
)

AMOJO_PATHS = "/v2/origin/custom/"


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


def urn_version(version: str) -> str:
    """A version as a default provider's URN names it (``0_3_0``)."""
    return version.replace(".", "_")


def as_written_by(export: str, recorded: str, version: str) -> str:
    """A plugin stack's export as if plugin ``version`` had written it instead of ``recorded``: the
    providers' ``version`` input and the default provider's URN, which names the version."""
    changed = export.replace(f'"version": "{recorded}"', f'"version": "{version}"')
    changed = changed.replace(f"::default_{urn_version(recorded)}_", f"::default_{urn_version(version)}_")
    assert changed.count(f"::default_{urn_version(version)}_") >= 2, "no default provider renamed"
    return changed


def changes_to_kommo(emulator: EmulatorServer, since: int = 0) -> list[tuple[str, str, int]]:
    """(method, path, status) of the requests since ``since`` that change something at Kommo: any REST
    call but a read, and any amojo call."""
    return [
        (r.method, r.path, r.status)
        for r in emulator.request_log.requests()[since:]
        if r.method != "GET" or r.path.startswith(AMOJO_PATHS)
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


def _serve_account(emulator: EmulatorServer, account: FixtureAccount, recorded: Mapping[str, Any]) -> None:
    """Serve the account with its ids, pipelines and token. Pipeline ids are numbered by the emulator as
    0.3.0 numbered them (accounts added in the same order); a source's ``pipelineId`` in the state names
    one, so they must be the recorded ones."""
    served = emulator.rest.add_account(
        AccountSpec(
            account.subdomain,
            amojo_id=account.amojo_id,
            name=account.name,
            id=account.id,
            pipelines=account.pipelines,
            integration_id=account.integration_id,
            user_id=account.user_id,
        )
    )
    assert (served.subdomain, served.id, served.amojo_id) == (
        recorded["subdomain"],
        recorded["id"],
        recorded["amojo_id"],
    )
    pipelines = [(p.id, p.name, p.is_main) for p in served.pipelines]
    assert pipelines == [(p["id"], p["name"], p["is_main"]) for p in recorded["pipelines"]], (
        f"the emulator numbers {account.subdomain}'s pipelines otherwise than the recording did"
    )
    emulator.rest.add_token(account.subdomain, account.token, integration_id=account.integration_id)


def replay_accounts(emulator: EmulatorServer, spec: FixtureStack) -> None:
    """Serve the stack's REST accounts and tokens, and put back their recorded sources and webhooks
    with the ids Kommo gave them; afterwards the emulator holds what the recording left."""
    recorded = recorded_kommo(spec)
    assert [a["subdomain"] for a in recorded["accounts"]] == [a.subdomain for a in spec.accounts]
    subdomains: dict[int, str] = {}
    for account, kept in zip(spec.accounts, recorded["accounts"], strict=True):
        _serve_account(emulator, account, kept)
        subdomains[account.id] = account.subdomain
    for source in recorded["sources"]:
        emulator.rest.restore_source(
            subdomains[source["account_id"]],
            source_id=source["id"],
            integration_id=source["integration_id"],
            name=source["name"],
            external_id=source["external_id"],
            pipeline_id=source["pipeline_id"],
            default=source["default"],
            origin_code=source["origin_code"],
            services=source["services"],
        )
    for hook in recorded["webhooks"]:
        emulator.rest.restore_webhook(
            subdomains[hook["account_id"]],
            webhook_id=hook["id"],
            destination=hook["destination"],
            settings=hook["settings"],
            sort=hook["sort"],
            disabled=hook["disabled"],
            created_at=hook["created_at"],
            updated_at=hook["updated_at"],
            created_by=hook["created_by"],
        )
    assert_holds_recorded_objects(emulator, spec)
    assert emulator.request_log.requests() == [], "replaying state must not look like an API request"


def assert_holds_recorded_objects(emulator: EmulatorServer, spec: FixtureStack) -> None:
    """The emulator holds the recorded sources and webhooks, in order, each with the recorded values
    (fields a later emulator adds are not compared)."""
    state = emulator.rest.state()
    recorded = recorded_kommo(spec)
    for kind in ("sources", "webhooks"):
        assert len(state[kind]) == len(recorded[kind]), f"{kind}: not as many as recorded"
        pairs = zip(state[kind], recorded[kind], strict=True)
        held = [{key: now.get(key) for key in kept} for now, kept in pairs]
        assert held == recorded[kind], f"{kind} differ from the recorded ones"


def _inline(program: Path) -> Callable[[], None]:
    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")

    return run


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

    def names(self) -> list[str]:
        """The names of the resources in the stack's state, in state order."""
        return [r["urn"].rsplit("::", 1)[-1] for r in self.resources()]
