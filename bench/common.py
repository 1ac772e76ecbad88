"""Shared benchmark plumbing: an emulator in its own process, the standalone plugin, timing helpers."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def standalone_plugin(into: Path) -> tuple[Path, Path]:
    """The standalone ``pulumi-resource-kommo`` (PyInstaller) unpacked into ``into``, as the CLI installs
    it: (the archive, the executable). scripts/build-plugin-archive.sh builds it, or copies the build
    cached for the current sources."""
    built = subprocess.run(
        ["bash", str(REPO / "scripts" / "build-plugin-archive.sh"), str(into / "dist")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    archive = Path(built.stdout.strip().splitlines()[-1])
    unpacked = into / "standalone"
    unpacked.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    return archive, unpacked / "pulumi-resource-kommo"


@contextmanager
def emulator_process(*extra: str) -> Iterator[str]:
    """``kommo-chat emulator --demo --port 0`` in a separate process (no GIL shared with the client)."""
    with _server_process(
        [sys.executable, "-m", "kommo_provider", "emulator", "--demo", "--port", "0", *extra]
    ) as url:
        yield url


@contextmanager
def canned_server_process() -> Iterator[str]:
    """bench/canned_server.py in a separate process: HTTP round trip with no server-side work."""
    with _server_process([sys.executable, "-m", "bench.canned_server"]) as url:
        yield url


@contextmanager
def _server_process(argv: list[str]) -> Iterator[str]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError(f"{argv} did not start: {line!r}")
        yield line.split("listening on ", 1)[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def rate(fn: Callable[[], object], count: int, warmup: int = 20) -> float:
    """Calls per second of ``fn`` over ``count`` sequential calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    started = time.perf_counter()
    for _ in range(count):
        fn()
    return count / (time.perf_counter() - started)


def best_of(repeats: int, measure: Callable[[], float]) -> float:
    """The best of several measurements (least disturbed by the other core's noise)."""
    return max(measure() for _ in range(repeats))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def load() -> str:
    """The machine's load, printed before and after a benchmark: figures from a busy machine mislead."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
