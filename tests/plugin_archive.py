"""The standalone plugin archive the tests run: built by scripts/build-plugin-archive.sh (PyInstaller).

The script caches builds by their inputs under ~/.cache/kommo-provider/plugin-build/, so only the
first call after a source change pays for the freeze (about 25 s on 2 cores); later calls copy the
cached archive. Calls wait for each other on a lock in that cache, so parallel test workers (and other
checkouts) never freeze the same inputs twice. Tests get the archive from the ``plugin_archive``
fixture (tests/needs.py); the helpers here unpack it and start it the way the Pulumi CLI does.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Final

from tool_cache import cache_dir, locked

from kommo_provider import __version__

ROOT: Final = Path(__file__).resolve().parent.parent
BUILD_SCRIPT: Final = ROOT / "scripts" / "build-plugin-archive.sh"
EXECUTABLE: Final = "pulumi-resource-kommo.exe" if sys.platform == "win32" else "pulumi-resource-kommo"


def platform_name() -> str:
    """``<os>-<arch>`` as the Pulumi CLI names plugin downloads (linux-amd64, darwin-arm64, ...)."""
    os_name = {"linux": "linux", "darwin": "darwin", "win32": "windows"}[sys.platform]
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[machine]
    return f"{os_name}-{arch}"


def archive_name(version: str = __version__) -> str:
    return f"pulumi-resource-kommo-v{version}-{platform_name()}.tar.gz"


def build_cache() -> Path:
    """The script's build cache (``KOMMO_PLUGIN_BUILD_CACHE``, else ``plugin-build`` in the tool cache)."""
    configured = os.environ.get("KOMMO_PLUGIN_BUILD_CACHE")
    return Path(configured) if configured else cache_dir() / "plugin-build"


def build_plugin_archive(out_dir: Path) -> Path:
    """Run the build script into ``out_dir``, one build at a time; returns the archive it reports."""
    with locked(build_cache() / "build.lock"):
        done = subprocess.run(["bash", str(BUILD_SCRIPT), str(out_dir)],
                              capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
    assert done.returncode == 0, f"build-plugin-archive.sh failed ({done.returncode}):\n{done.stderr}"
    archive = Path(done.stdout.strip().splitlines()[-1])
    assert archive.is_file(), f"the script reported {archive}, which does not exist"
    return archive


def unpack(archive: Path, into: Path) -> Path:
    """Unpack the archive as `pulumi plugin install` does; returns the executable's path."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")
    return into / EXECUTABLE
