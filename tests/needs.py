"""What a test needs besides Python and the emulator, one fixture per need, and the tiers built on them.

A test that asks for one of these fixtures, directly or through another fixture, is marked with the
need when the suite is collected (``NEEDS``), so no test can carry the need and forget the mark;
``pytest --fast`` then leaves out every test with a mark in ``FAST_EXCLUDES``. A test that reaches the
Pulumi CLI without asking for ``pulumi_cli`` fails with a sentence naming the fixture.

Each fixture builds or installs its tool through the project's own script (cached by the script), under
a file lock, so the workers of ``pytest -n 2`` (and other checkouts sharing ``~/.cache``) never run one
build twice at once; the second caller finds the first one's result in the cache.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest
from plugin_archive import build_plugin_archive
from tool_cache import cache_dir, locked

import stack_runner

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
SCRIPTS: Final = PROJECT_DIR / "scripts"
TOOL_TIMEOUT: Final = 1800
"""Seconds a tool's script may take (a first Go build with empty caches takes minutes)."""

MARKERS: Final = {
    "pulumi_cli": "needs the Pulumi CLI (.tools/bin/pulumi or PATH; scripts/get-pulumi.sh): "
    "the pulumi_cli fixture",
    "plugin_archive": "needs the standalone plugin archive (scripts/build-plugin-archive.sh, PyInstaller): "
    "the plugin_archive fixture",
    "sdk_examples": "needs the SDK examples installed (scripts/setup-sdk-examples.sh: npm, tsc, Go, pip): "
    "the sdk_examples fixture",
    "sdk": "regenerates sdk/ with scripts/gen-sdk.sh and compares (needs Go): the sdk_generator fixture",
    "actionlint": "needs actionlint (scripts/get-actionlint.sh, built with Go once): the actionlint fixture",
}
"""Every need's marker and what it means (``pytest --markers`` lists them)."""

NEEDS: Final = {
    "pulumi_cli": "pulumi_cli",
    "plugin_archive": "plugin_archive",
    "sdk_examples": "sdk_examples",
    "sdk_generator": "sdk",
    "actionlint": "actionlint",
}
"""Fixture name -> the marker every test using it gets."""

FAST_EXCLUDES: Final = frozenset(NEEDS.values())
"""What ``--fast`` leaves out: every test that needs a tool beyond the virtualenv."""

EXAMPLE_TOOLS: Final = {"python": (), "typescript": ("node", "npm"), "go": ("go",)}
"""The toolchains each SDK example needs on PATH; without them its tests skip."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="the fast tier: leave out the tests marked " + ", ".join(sorted(FAST_EXCLUDES)),
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {meaning}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the needs of the fixtures it uses; with ``--fast``, deselect the needy ones."""
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in NEEDS:
                item.add_marker(NEEDS[fixture])
    if not config.getoption("fast"):
        return
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        needy = any(marker.name in FAST_EXCLUDES for marker in item.iter_markers())
        (left_out if needy else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def run_script(args: list[str]) -> str:
    """Run one of the project's scripts from the repository root; returns its stdout."""
    done = subprocess.run(
        ["bash", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """The folder holding the Pulumi CLI (``.tools/bin`` from scripts/get-pulumi.sh, else PATH)."""
    return stack_runner.pulumi_bin_dir()


@pytest.fixture(autouse=True)
def _pulumi_cli_only_through_its_fixture(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that starts the CLI (``LocalStack``, ``pulumi_bin_dir``) without asking for ``pulumi_cli``
    would run in the fast tier; it fails here instead, in either tier, saying what to ask for."""
    if "pulumi_cli" in request.fixturenames:
        return

    def undeclared(*_: object, **__: object) -> Path:
        raise AssertionError(
            f"{request.node.nodeid} runs the Pulumi CLI: ask for the pulumi_cli fixture (a parameter, or "
            "@pytest.mark.usefixtures('pulumi_cli')), which marks it pulumi_cli and keeps it out of --fast"
        )

    monkeypatch.setattr(stack_runner, "pulumi_bin_dir", undeclared)


@pytest.fixture(scope="session")
def plugin_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standalone plugin archive, built (or copied from the script's cache) into a folder of this
    worker's; the lock sits in the build cache, which every checkout of this machine shares."""
    return build_plugin_archive(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def sdk_examples() -> Callable[[str], None]:
    """``setup(language)``: scripts/setup-sdk-examples.sh for ``python``, ``typescript`` or ``go``, once
    per worker; skips the test when the language's toolchain is not on PATH. The script writes into
    this checkout (.venv, examples/typescript/node_modules), so the lock is the checkout's."""
    done: set[str] = set()

    def setup(language: str) -> None:
        missing = [tool for tool in EXAMPLE_TOOLS[language] if shutil.which(tool) is None]
        if missing:
            pytest.skip(f"no {' or '.join(missing)} on PATH: the {language} example needs it")
        if language not in done:
            with locked(PROJECT_DIR / ".venv" / "sdk-examples.lock"):
                run_script([str(SCRIPTS / "setup-sdk-examples.sh"), language])
            done.add(language)

    return setup


@pytest.fixture(scope="session")
def sdk_generator() -> Path:
    """The SDK generator (scripts/build-sdkgen.sh, a Go program); skips the test without Go."""
    if shutil.which("go") is None:
        pytest.skip("no go on PATH: the SDK generator is a Go program")
    with locked(PROJECT_DIR / ".venv" / "sdk-examples.lock"):  # setup-sdk-examples.sh go builds it too
        return Path(run_script([str(SCRIPTS / "build-sdkgen.sh")]).strip())


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """actionlint at the version scripts/get-actionlint.sh pins (built once with Go, then cached)."""
    with locked(cache_dir() / "actionlint.lock"):
        return Path(run_script([str(SCRIPTS / "get-actionlint.sh")]).strip())
