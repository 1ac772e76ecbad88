"""The generated SDKs (sdk/) under the real CLI: each language's fleet example, run as a user runs it.

examples/{typescript,python,go} each declare one ``kommo.Provider`` for the emulator's demo channel
and a fleet of accounts read from stack config (default: the demo accounts ``demo`` and ``demo2``),
with each account's token from ``tokenCommand`` (default: ``kommo-chat token`` asking the emulator's
vendor token service). Per account they look the account up, connect it, and give it a lead source and
an events webhook; they run their program inline through their language's Automation API against a
local file backend. Every test gets an emulator and a backend folder of its own. The examples are
installed by scripts/setup-sdk-examples.sh (bootstrap runs it; the ``sdk_examples`` fixture runs it
again, which costs nothing when nothing changed); a language whose toolchain is missing is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import stored

from kommo_provider.emulator import (
    DEMO_ACCOUNTS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    DEMO_PIPELINES,
    EmulatorServer,
)
from stack_runner import PROJECT_DIR

pytestmark = pytest.mark.e2e

EXAMPLES = PROJECT_DIR / "examples"
GO_FLAGS = ["-trimpath", "-tags", "osusergo,grpcnotrace"]  # as the CLI build: shares Go's build cache
PASSPHRASE = "sdk-e2e-passphrase"
HOSTS = [account.subdomain for account in DEMO_ACCOUNTS]
"""The examples' default fleet, as stack config names it: ``demo`` and ``demo2``."""
WEBHOOK_BASE = "https://bot.example.com/kommo/webhook"
EVENTS_URL = "https://bot.example.com/kommo/events"
EVENTS = ["add_message", "status_lead"]
ACCOUNT_LOOKUP = "/api/v4/account?with=amojo_id"
CONNECT = f"/v2/origin/custom/{DEMO_CHANNEL_ID}/connect"
DISCONNECT = f"/v2/origin/custom/{DEMO_CHANNEL_ID}/disconnect"
MAIN_PIPELINE, OTHER_PIPELINE = DEMO_PIPELINES  # the first is each demo account's main pipeline
RESOURCES_PER_ACCOUNT = 3  # a connection, a source, a webhook
FLEET_RESOURCES = 2 + RESOURCES_PER_ACCOUNT * len(HOSTS)  # and the stack and the provider


def _run(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def typescript_example(sdk_examples: Callable[[str], None]) -> list[str]:
    sdk_examples("typescript")
    return ["node", str(EXAMPLES / "typescript" / "bin" / "index.js")]


@pytest.fixture(scope="session")
def python_example(sdk_examples: Callable[[str], None]) -> list[str]:
    sdk_examples("python")
    return [sys.executable, str(EXAMPLES / "python" / "kommo_example.py")]


@pytest.fixture(scope="session")
def go_example(tmp_path_factory: pytest.TempPathFactory, sdk_examples: Callable[[str], None]) -> list[str]:
    sdk_examples("go")
    binary = tmp_path_factory.mktemp("go-example") / "kommo-go-example"
    _run(["go", "build", *GO_FLAGS, "-o", str(binary), "."], EXAMPLES / "go")
    return [str(binary)]


@dataclass
class Example:
    """One language's example program, pointed at a backend folder of its own."""

    command: list[str]
    state: Path
    env: dict[str, str]
    logs: list[str]
    live: bool = False
    """Whether the stack may hold resources (the fixture destroys them after the test)."""

    def run(self, operation: str, *args: str) -> dict[str, Any]:
        """Run an operation as a user would; returns the example's JSON summary."""
        # Flags first: Go's flag package stops at the first positional argument.
        argv = [*self.command, "--state", str(self.state), *args, operation]
        self.live = self.live or operation == "up"
        done = subprocess.run(
            argv, cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True, timeout=600, check=False
        )
        self.logs += [done.stdout, done.stderr]
        assert done.returncode == 0, f"{operation} failed ({done.returncode}):\n{done.stderr}\n{done.stdout}"
        summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        assert summary["operation"] == operation
        self.live = self.live and operation != "destroy"
        return summary


@pytest.fixture
def demo_emulator() -> Iterator[EmulatorServer]:
    """An emulator of this test's own as ``kommo-chat emulator --demo`` serves it: the public demo
    channel, the demo accounts, and the vendor token service the examples' tokenCommand asks."""
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, port=0, accounts=DEMO_ACCOUNTS) as server:
        yield server


@pytest.fixture(params=["typescript", "python", "go"])
def example(
    request: pytest.FixtureRequest, tmp_path: Path, pulumi_cli: Path, sdk_examples: Callable[[str], None]
) -> Iterator[Example]:
    """One language's example; ``sdk_examples`` is asked for here because the language's own fixture
    is looked up by name, which pytest cannot see when it collects (and marks) the test."""
    command: list[str] = request.getfixturevalue(f"{request.param}_example")
    env = {
        **os.environ,
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
    }
    for name in ("KOMMO_BASE_URL", "KOMMO_API_BASE_URL"):  # the examples' defaults
        env.pop(name, None)
    made = Example(command, tmp_path / "state", env, [])
    yield made
    if made.live:  # never leave connections behind
        subprocess.run([*command, "--state", str(made.state), "destroy"], cwd=PROJECT_DIR, env=env,
                       capture_output=True, timeout=600, check=False)  # fmt: skip


def api_calls(emulator: EmulatorServer, since: int = 0) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in emulator.request_log.requests()[since:]]


def writes(emulator: EmulatorServer, since: int = 0) -> list[tuple[str, str]]:
    """The calls since ``since`` that change Kommo, sorted: the examples' accounts run concurrently."""
    return sorted((m, p) for m, p, status in api_calls(emulator, since) if m != "GET" and status < 300)


def assert_each_account_set_up(emulator: EmulatorServer, outputs: dict[str, Any], pipeline: str) -> None:
    """Every account of the fleet connected, with one source (in ``pipeline``) and one webhook made in
    it with its own token (Kommo records the token's account and user), and the outputs the bot reads."""
    assert set(outputs["accounts"]) == set(HOSTS)
    scopes = {c.account_id: c.scope_id for c in emulator.backend.connections()}
    assert set(scopes) == {emulator.rest.account(host).amojo_id for host in HOSTS}
    for spec in DEMO_ACCOUNTS:
        account = emulator.rest.account(spec.subdomain)
        mine = outputs["accounts"][spec.subdomain]
        scope_id = scopes[account.amojo_id]
        assert (mine["scopeId"], mine["webhookUrl"]) == (scope_id, f"{WEBHOOK_BASE}/{scope_id}")
        assert stored(emulator, DEMO_CHANNEL_ID, account.amojo_id).title == "Support bot"
        [source] = emulator.rest.sources(spec.subdomain)
        [hook] = emulator.rest.webhooks(spec.subdomain)
        [pipeline_id] = [p.id for p in account.pipelines if p.name == pipeline]
        assert (source.account_id, source.integration_id) == (account.id, spec.integration_id)
        assert (source.name, source.external_id) == ("Support bot chats", "support-bot")
        assert source.pipeline_id == pipeline_id
        assert (hook.account_id, hook.created_by) == (account.id, spec.user_id), "made with its token"
        assert (hook.destination, hook.settings, hook.disabled) == (EVENTS_URL, EVENTS, False)
        assert (mine["sourceId"], mine["sourceExternalId"]) == (source.id, "support-bot")
        assert (mine["pipelineId"], mine["webhookId"]) == (pipeline_id, hook.id)


def test_fleet_example_preview_up_update_destroy(example: Example, demo_emulator: EmulatorServer) -> None:
    emulator = demo_emulator
    one = example.run("preview", "--base-url", emulator.url, "--config", 'accounts=["demo2"]')
    assert one["changes"] == {"create": 2 + RESOURCES_PER_ACCOUNT}, "the fleet is read from stack config"
    assert api_calls(emulator) == [("GET", ACCOUNT_LOOKUP, 200)], "preview only reads"

    preview = example.run("preview", "--config", f"accounts={json.dumps(HOSTS)}")
    assert preview["changes"] == {"create": FLEET_RESOURCES}
    assert api_calls(emulator)[1:] == [("GET", ACCOUNT_LOOKUP, 200)] * len(HOSTS)

    up = example.run("up")
    assert up["changes"] == {"create": FLEET_RESOURCES}
    assert_each_account_set_up(emulator, up["outputs"], MAIN_PIPELINE)

    before = len(emulator.request_log.requests())
    assert example.run("preview")["changes"] == {"same": FLEET_RESOURCES}
    assert writes(emulator, before) == []

    moved = example.run("up", "--config", f"pipeline={OTHER_PIPELINE}")  # named; getPipelines finds it
    assert moved["changes"] == {"same": FLEET_RESOURCES - len(HOSTS), "update": len(HOSTS)}
    sources = {host: emulator.rest.sources(host)[0].id for host in HOSTS}
    patches = [("PATCH", f"/api/v4/sources/{sources[host]}") for host in HOSTS]
    assert writes(emulator, before) == sorted(patches), "a move is one PATCH of each account's source"
    assert_each_account_set_up(emulator, moved["outputs"], OTHER_PIPELINE)

    before = len(emulator.request_log.requests())
    renamed = example.run("up", "--config", "supportTitle=Support (renamed)")
    assert renamed["changes"] == {"same": FLEET_RESOURCES - len(HOSTS), "update": len(HOSTS)}
    assert writes(emulator, before) == [("POST", CONNECT)] * len(HOSTS)
    for host in HOSTS:
        assert (
            stored(emulator, DEMO_CHANNEL_ID, emulator.rest.account(host).amojo_id).title
            == "Support (renamed)"
        )
    assert renamed["outputs"] == moved["outputs"], "the scope ids and what uses them stay the same"

    before = len(emulator.request_log.requests())
    destroyed = example.run("destroy")
    assert destroyed["changes"] == {"delete": FLEET_RESOURCES}
    assert emulator.backend.connections() == []
    assert emulator.rest.sources() == [] and emulator.rest.webhooks() == []
    assert writes(emulator, before) == sorted(
        [("DELETE", DISCONNECT)] * len(HOSTS) + [("DELETE", "/api/v4/webhooks")] * len(HOSTS)
        + [("DELETE", f"/api/v4/sources/{sources[h]}") for h in HOSTS]
    )  # fmt: skip

    backend_files = [p for p in example.state.rglob("*") if p.is_file()]
    assert backend_files, "the file backend holds the stack"
    backend_text = "".join(p.read_text(errors="replace") for p in backend_files)
    assert "ciphertext" in backend_text, "the provider's channelSecret is stored as a secret"
    tokens = [spec.token.split(".")[2] for spec in DEMO_ACCOUNTS if spec.token]  # each token's signature
    for secret in (DEMO_CHANNEL_SECRET, *tokens):
        assert secret not in backend_text, "a secret in plaintext in the backend"
        assert secret not in "".join(example.logs), "a secret in the example's output"


def test_typescript_sdk_and_example_compile_strict(typescript_example: list[str]) -> None:
    """`tsc --strict` over the SDK as npm installed it (checked to be sdk/nodejs) and over the example."""
    project = EXAMPLES / "typescript"
    installed = project / "node_modules" / "@kommo-provider" / "kommo"
    sdk = PROJECT_DIR / "sdk" / "nodejs"
    sources = sorted(p.relative_to(sdk) for p in sdk.rglob("*.ts") if "node_modules" not in p.parts)
    assert sources, "sdk/nodejs holds the TypeScript SDK"
    stale = [str(p) for p in sources if (installed / p).read_bytes() != (sdk / p).read_bytes()]
    assert not stale, f"the installed SDK differs from sdk/nodejs: {stale}; run scripts/setup-sdk-examples.sh"
    tsc = str(project / "node_modules" / ".bin" / "tsc")
    _run([tsc, "--strict", "--noEmit", "-p", str(installed / "tsconfig.json")], project)
    _run([tsc, "--strict", "--noEmit", "-p", str(project / "tsconfig.json")], project)


def test_go_sdk_and_example_vet_clean(go_example: list[str]) -> None:
    _run(["go", "vet", *GO_FLAGS, "./..."], EXAMPLES / "go")
    _run(["go", "vet", *GO_FLAGS, "./go/..."], PROJECT_DIR / "sdk")
