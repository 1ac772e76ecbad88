"""The generated SDKs (sdk/) under the real CLI: each language's example, run as a user runs it.

examples/{typescript,python,go} each declare explicit ``kommo.Provider``s for the emulator's demo
channel and demo account, look the account up, connect it (and a second account), and give it a lead
source and an events webhook; they run their program inline through their language's Automation API
against a local file backend. Every test gets an emulator and a backend folder of its own. The
examples are installed by scripts/setup-sdk-examples.sh (bootstrap runs it; the fixtures run it
again, which costs nothing when nothing changed); a language whose toolchain is missing is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import stored

from kommo_provider.emulator import (
    DEMO_ACCESS_TOKEN,
    DEMO_ACCOUNT,
    DEMO_ACCOUNT_IDS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    EmulatorServer,
)
from stack_runner import PROJECT_DIR

pytestmark = pytest.mark.e2e

EXAMPLES = PROJECT_DIR / "examples"
SETUP = PROJECT_DIR / "scripts" / "setup-sdk-examples.sh"
GO_FLAGS = ["-trimpath", "-tags", "osusergo,grpcnotrace"]  # as the CLI build: shares Go's build cache
PASSPHRASE = "sdk-e2e-passphrase"
SUPPORT_ACCOUNT, SALES_ACCOUNT = DEMO_ACCOUNT_IDS
WEBHOOK_BASE = "https://bot.example.com/kommo/webhook"
EVENTS_URL = "https://bot.example.com/kommo/events"
EVENTS = ["add_message", "status_lead"]
ACCOUNT_LOOKUP = "/api/v4/account?with=amojo_id"
ACCOUNT = DEMO_ACCOUNT.subdomain
CONNECT = f"/v2/origin/custom/{DEMO_CHANNEL_ID}/connect"
DISCONNECT = f"/v2/origin/custom/{DEMO_CHANNEL_ID}/disconnect"


def _run(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def _setup(language: str, tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"no {tool} on PATH: the {language} example needs it")
    _run(["bash", str(SETUP), language], PROJECT_DIR)


@pytest.fixture(scope="session")
def typescript_example() -> list[str]:
    _setup("typescript", "node")
    return ["node", str(EXAMPLES / "typescript" / "bin" / "index.js")]


@pytest.fixture(scope="session")
def python_example() -> list[str]:
    _setup("python", "python3")
    return [sys.executable, str(EXAMPLES / "python" / "kommo_example.py")]


@pytest.fixture(scope="session")
def go_example(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    _setup("go", "go")
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
    """An emulator of this test's own with the public demo channel and demo account the examples use."""
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, port=0, accounts=[DEMO_ACCOUNT]) as server:
        yield server


@pytest.fixture(params=["typescript", "python", "go"])
def example(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Example]:
    command: list[str] = request.getfixturevalue(f"{request.param}_example")
    env = {
        **os.environ,
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
    }
    for name in ("KOMMO_BASE_URL", "KOMMO_API_BASE_URL", "KOMMO_ACCESS_TOKEN"):  # the examples' defaults
        env.pop(name, None)
    made = Example(command, tmp_path / "state", env, [])
    yield made
    if made.live:  # never leave connections behind
        subprocess.run([*command, "--state", str(made.state), "destroy"], cwd=PROJECT_DIR, env=env,
                       capture_output=True, timeout=600, check=False)  # fmt: skip


def api_calls(emulator: EmulatorServer, since: int = 0) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in emulator.request_log.requests()[since:]]


def test_example_preview_up_update_destroy(example: Example, demo_emulator: EmulatorServer) -> None:
    emulator = demo_emulator
    preview = example.run("preview", "--base-url", emulator.url)
    assert preview["changes"] == {"create": 7}  # the stack, two providers, two connections, source, webhook
    assert api_calls(emulator) == [("GET", ACCOUNT_LOOKUP, 200)], "preview only reads"

    up = example.run("up")
    assert up["changes"] == {"create": 7}
    server_scopes = {c.account_id: c.scope_id for c in emulator.backend.connections()}
    assert set(server_scopes) == {SUPPORT_ACCOUNT, SALES_ACCOUNT}
    assert emulator.rest.account(ACCOUNT).amojo_id == SUPPORT_ACCOUNT, "support is the looked-up account"
    outputs = up["outputs"]
    assert outputs["supportScopeId"] == server_scopes[SUPPORT_ACCOUNT]
    assert outputs["salesScopeId"] == server_scopes[SALES_ACCOUNT]
    assert outputs["supportWebhookUrl"] == f"{WEBHOOK_BASE}/{server_scopes[SUPPORT_ACCOUNT]}"
    assert stored(emulator, DEMO_CHANNEL_ID, SUPPORT_ACCOUNT).title == "Support bot"
    assert stored(emulator, DEMO_CHANNEL_ID, SALES_ACCOUNT).title == "Sales bot"
    [source] = emulator.rest.sources(ACCOUNT)
    [hook] = emulator.rest.webhooks(ACCOUNT)
    main, support = emulator.rest.account(ACCOUNT).pipelines
    assert (source.name, source.external_id) == ("Support bot chats", "support-bot")
    assert source.pipeline_id == main.id, "no pipeline named: Kommo's main pipeline"
    assert (hook.destination, hook.settings, hook.disabled) == (EVENTS_URL, EVENTS, False)
    assert (outputs["supportSourceExternalId"], outputs["supportSourceId"]) == ("support-bot", source.id)
    assert (outputs["supportPipelineId"], outputs["botEventsUrl"]) == (main.id, EVENTS_URL)

    before = len(emulator.request_log.requests())
    renamed = example.run("up", "--config", "supportTitle=Support (renamed)")
    assert renamed["changes"] == {"same": 6, "update": 1}
    assert api_calls(emulator, before) == [("GET", ACCOUNT_LOOKUP, 200), ("POST", CONNECT, 200)]
    assert stored(emulator, DEMO_CHANNEL_ID, SUPPORT_ACCOUNT).title == "Support (renamed)"
    assert renamed["outputs"] == outputs, "the scope ids and what uses them stay the same"

    before = len(emulator.request_log.requests())
    moved = example.run("up", "--config", f"pipeline={support.name}")  # named; getPipelines finds it
    assert moved["changes"] == {"same": 6, "update": 1}
    writes = [(m, p) for m, p, _ in api_calls(emulator, before) if m != "GET"]
    assert writes == [("PATCH", f"/api/v4/sources/{source.id}")], "a move is one PATCH of the source"
    assert emulator.rest.sources(ACCOUNT)[0].pipeline_id == support.id
    assert moved["outputs"]["supportPipelineId"] == support.id

    before = len(emulator.request_log.requests())
    destroyed = example.run("destroy")
    assert destroyed["changes"] == {"delete": 7}
    assert emulator.backend.connections() == []
    assert emulator.rest.sources(ACCOUNT) == [] and emulator.rest.webhooks(ACCOUNT) == []
    assert sorted((m, p) for m, p, status in api_calls(emulator, before) if status < 300) == [
        ("DELETE", "/api/v4/sources/" + str(source.id)), ("DELETE", "/api/v4/webhooks"),
        ("DELETE", DISCONNECT), ("DELETE", DISCONNECT)]  # fmt: skip

    backend_files = [p for p in example.state.rglob("*") if p.is_file()]
    assert backend_files, "the file backend holds the stack"
    backend_text = "".join(p.read_text(errors="replace") for p in backend_files)
    assert "ciphertext" in backend_text, "the providers' channelSecret and accessToken are stored as secrets"
    for secret in (DEMO_CHANNEL_SECRET, DEMO_ACCESS_TOKEN.split(".")[2]):  # the token's signature part
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
