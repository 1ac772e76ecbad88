"""The kommo plugin as a user without Python gets it: the Pulumi CLI downloads it on the first ``up``.

A loopback HTTP server serves the standalone archive (scripts/build-plugin-archive.sh) at the path a
GitHub release serves its assets, ``/<org>/<repo>/releases/download/v<version>/<asset>``, and
``PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES`` maps the schema's ``pluginDownloadURL``
(github://api.github.com/kommo-provider/kommo-provider) to it. Every test has a fresh ``PULUMI_HOME``
with no kommo plugin, and a ``PATH`` holding the CLI (and ``node`` where the program needs it), but no
``python3`` and no venv. The YAML example names the version and URL on its provider; the TypeScript
and Python examples get them from their SDK packages. The YAML example's tokens are in its program
(``accessTokens``); the TypeScript example's default ``tokenCommand`` (``kommo-chat token``) needs
Python, so there the user gives a token command of their own, written for Node.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from emulator_helpers import stored
from plugin_archive import archive_name

from kommo_provider import __version__
from kommo_provider.emulator import (
    DEMO_ACCOUNTS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    EmulatorServer,
)
from stack_runner import PROJECT_DIR

pytestmark = pytest.mark.e2e

DOWNLOAD_URL = "github://api.github.com/kommo-provider/kommo-provider"
RELEASE_PATH = f"/kommo-provider/kommo-provider/releases/download/v{__version__}/{archive_name()}"
EXAMPLES = PROJECT_DIR / "examples"
PASSPHRASE = "download-e2e-passphrase"
NODE_TOKEN_COMMAND = """\
// A vendor's token command in Node: asks its token service for the account in KOMMO_ACCOUNT and prints
// the answer, {"accessToken": ..., "expiresAt": ...}, for the kommo provider.
const [serviceUrl] = process.argv.slice(2);
fetch(`${serviceUrl}/${process.env.KOMMO_ACCOUNT}`).then(async (answer) => {
    if (!answer.ok) {
        console.error(`the token service answered HTTP ${answer.status}`);
        process.exit(1);
    }
    process.stdout.write(await answer.text());
});
"""


class ReleaseServer(ThreadingHTTPServer):
    """Serves one release asset, as GitHub does, and records every request path."""

    def __init__(self, asset: Path) -> None:
        super().__init__(("127.0.0.1", 0), _ReleaseHandler)
        self.asset = asset
        self.requests: list[str] = []

    @property
    def url_override(self) -> str:
        """``PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES``: the schema's URL (a regexp) = this server's release
        folder for the version the CLI wants (``${VERSION}``, filled in by the CLI)."""
        folder = f"http://127.0.0.1:{self.server_address[1]}/kommo-provider/kommo-provider/releases/download"
        return f"^{re.escape(DOWNLOAD_URL)}$={folder}/v${{VERSION}}"


class _ReleaseHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = cast(ReleaseServer, self.server)
        server.requests.append(self.path)
        if self.path != RELEASE_PATH:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        body = server.asset.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads self.server.requests
        pass


@pytest.fixture
def release(plugin_archive: Path) -> Iterator[ReleaseServer]:
    server = ReleaseServer(plugin_archive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def demo_emulator() -> Iterator[EmulatorServer]:
    """The emulator as ``kommo-chat emulator --demo`` serves it: the demo channel and demo accounts."""
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, accounts=DEMO_ACCOUNTS, port=0) as server:
        yield server


def user_bin(folder: Path, cli: Path, *tools: str) -> Path:
    """A PATH folder with the Pulumi CLI from ``cli`` (and YAML's language host) and ``tools``: no more."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("pulumi", "pulumi-language-yaml"):
        if (cli / name).exists():
            (folder / name).symlink_to((cli / name).resolve())
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"no {tool} on PATH"
        (folder / tool).symlink_to(Path(found).resolve())
    for python in ("python", "python3", "pulumi-resource-kommo"):
        assert shutil.which(python, path=str(folder)) is None
    return folder


def user_env(root: Path, release: ReleaseServer, path: str) -> dict[str, str]:
    """The environment of a user's shell: a fresh Pulumi home, no Python variables, the override."""
    return {
        "PATH": path,
        "HOME": str(root / "home"),
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        "PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES": release.url_override,
    }


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def installed_plugins(env: dict[str, str], cwd: Path) -> list[tuple[str, str, str]]:
    """`pulumi plugin ls`: (name, kind, version) of what sits in PULUMI_HOME's plugin cache."""
    listed = json.loads(run(["pulumi", "plugin", "ls", "--json"], env, cwd).stdout)
    return [(p["name"], p["kind"], p["version"]) for p in listed or []]


def assert_both_accounts_set_up(emulator: EmulatorServer) -> None:
    """Each demo account connected, with one source and one webhook made in it."""
    scopes = {c.account_id: c.scope_id for c in emulator.backend.connections()}
    assert scopes == {a.amojo_id: f"{DEMO_CHANNEL_ID}_{a.amojo_id}" for a in DEMO_ACCOUNTS}
    for account in DEMO_ACCOUNTS:
        assert stored(emulator, DEMO_CHANNEL_ID, str(account.amojo_id)).title == "Support bot"
        assert (
            len(emulator.rest.sources(account.subdomain))
            == len(emulator.rest.webhooks(account.subdomain))
            == 1
        )


def assert_nothing_left(emulator: EmulatorServer) -> None:
    assert emulator.backend.connections() == []
    assert emulator.rest.sources() == [] and emulator.rest.webhooks() == []


def test_yaml_example_installs_the_plugin_from_the_release_by_itself(
    tmp_path: Path, release: ReleaseServer, demo_emulator: EmulatorServer, pulumi_cli: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES / "yaml", project, ignore=shutil.ignore_patterns("Pulumi.*.yaml"))
    env = user_env(tmp_path, release, str(user_bin(tmp_path / "bin", pulumi_cli)))
    env["PULUMI_BACKEND_URL"] = f"file://{tmp_path / 'state'}"
    (tmp_path / "state").mkdir()
    pulumi = "pulumi"  # from the user's PATH
    assert installed_plugins(env, project) == []

    run([pulumi, "stack", "init", "dev"], env, project)
    run([pulumi, "config", "set", "kommo-yaml-example:baseUrl", demo_emulator.url], env, project)
    up = run([pulumi, "up", "--yes", "--non-interactive"], env, project)
    assert release.requests == [RELEASE_PATH], "one download of this platform's archive"
    assert ("kommo", "resource", __version__) in installed_plugins(env, project)
    assert "from $PATH" not in up.stdout + up.stderr
    assert_both_accounts_set_up(demo_emulator)

    run([pulumi, "up", "--yes", "--non-interactive"], env, project)
    run([pulumi, "preview", "--expect-no-changes", "--non-interactive"], env, project)
    assert release.requests == [RELEASE_PATH], "a second up (and a preview) download nothing"

    run([pulumi, "destroy", "--yes", "--non-interactive"], env, project)
    assert_nothing_left(demo_emulator)
    disconnects = [r for r in demo_emulator.backend.requests() if r.path.endswith("/disconnect")]
    assert len(disconnects) == len(DEMO_ACCOUNTS)


def test_typescript_example_gets_the_plugin_through_its_sdk(
    tmp_path: Path,
    release: ReleaseServer,
    demo_emulator: EmulatorServer,
    pulumi_cli: Path,
    sdk_examples: Callable[[str], None],
) -> None:
    """examples/typescript run with node, from a copy outside the repository (no .venv, no .tools). With
    no Python, the default tokenCommand (kommo-chat) cannot run: the user's own, in Node, asks the same
    token service, given as stack config like any other."""
    sdk_examples("typescript")
    copy = tmp_path / "checkout" / "examples" / "typescript"
    copy.mkdir(parents=True)
    shutil.copytree(EXAMPLES / "typescript" / "bin", copy / "bin")
    shutil.copy2(EXAMPLES / "typescript" / "package.json", copy / "package.json")
    (copy / "node_modules").symlink_to(EXAMPLES / "typescript" / "node_modules", target_is_directory=True)
    env = user_env(tmp_path, release, str(user_bin(tmp_path / "bin", pulumi_cli, "node")))
    example = ["node", str(copy / "bin" / "index.js"), "--state", str(tmp_path / "state")]
    token_command = tmp_path / "token-command.js"
    token_command.write_text(NODE_TOKEN_COMMAND)
    tokens = ["node", str(token_command), f"{demo_emulator.url}/_emulator/vendor-tokens"]

    config = ["--config", f"tokenCommand={json.dumps(tokens)}"]
    summary = json.loads(
        run([*example, "--base-url", demo_emulator.url, *config, "up"], env, tmp_path).stdout
    )
    assert set(summary["changes"]) == {"create"}
    assert release.requests == [RELEASE_PATH]
    assert ("kommo", "resource", __version__) in installed_plugins(env, tmp_path)
    assert_both_accounts_set_up(demo_emulator)

    run([*example, "destroy"], env, tmp_path)
    assert_nothing_left(demo_emulator)


def test_python_example_uses_the_downloaded_plugin_not_the_console_script(
    tmp_path: Path,
    release: ReleaseServer,
    demo_emulator: EmulatorServer,
    pulumi_cli: Path,
    sdk_examples: Callable[[str], None],
) -> None:
    """The Python program needs Python; with ambient plugins ignored, the plugin still comes from the
    release, not from the `pulumi-resource-kommo` console script beside this interpreter."""
    sdk_examples("python")
    env = user_env(tmp_path, release, str(user_bin(tmp_path / "bin", pulumi_cli)))
    env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
    example = [
        sys.executable,
        str(EXAMPLES / "python" / "kommo_example.py"),
        "--state",
        str(tmp_path / "state"),
    ]

    up = run([*example, "--base-url", demo_emulator.url, "up"], env, tmp_path)
    assert set(json.loads(up.stdout.strip().splitlines()[-1])["changes"]) == {"create"}
    assert release.requests == [RELEASE_PATH]
    assert "from $PATH" not in up.stdout + up.stderr
    assert ("kommo", "resource", __version__) in installed_plugins(env, tmp_path)
    assert_both_accounts_set_up(demo_emulator)

    run([*example, "destroy"], env, tmp_path)
    assert_nothing_left(demo_emulator)
