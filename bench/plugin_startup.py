"""Start-up of the ``kommo`` plugin process as the engine starts it, and the size of what ships.

Run: ``.venv/bin/python -m bench.plugin_startup [--runs 21]``. Three processes, interleaved:

- the no-op provider plugin (``bench/noop_plugin.py``, under this venv's Python): it imports the same
  gRPC and Pulumi protocol modules and serves the same way, so it is the floor;
- the ``pulumi-resource-kommo`` console script of ``pip install -e .`` (a checkout);
- the standalone executable from the release archive (scripts/build-plugin-archive.sh, PyInstaller),
  unpacked as the CLI installs it and started with an empty environment: what users run.

Each start times the port line on stdout (what the engine waits for) and the first answered call
(GetPluginInfo), then stops the process. Target: the standalone plugin within +100 ms of the no-op.
Then the archive's size: packed, unpacked, and how much of it is this package's own code against the
Python runtime and libraries it carries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2_grpc

from bench.common import REPO, standalone_plugin
from bench.noop_plugin import install_launcher

CONSOLE_SCRIPT = Path(sys.executable).parent / "pulumi-resource-kommo"
TARGET_MS = 100


def start_once(argv: list[str], env: dict[str, str] | None) -> tuple[float, float]:
    """(seconds to the port line, seconds to the first answered call) for one process start."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*argv, "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        listening = time.perf_counter() - started
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            provider_pb2_grpc.ResourceProviderStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=10)
        answered = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return listening, answered


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def print_sizes(archive: Path, executable: Path) -> None:
    """The archive's size, and this package's share of it against the runtime it carries."""
    internal = executable.parent / "_internal"
    total = tree_bytes(executable.parent)
    sources = [p for p in (REPO / "kommo_provider").rglob("*") if p.suffix in (".py", ".json")]
    own = sum(p.stat().st_size for p in sources if "emulator" not in p.parts and "cli" not in p.parts)
    parts = [(tree_bytes(p) if p.is_dir() else p.stat().st_size, p.name) for p in internal.iterdir()]
    largest = ", ".join(f"{name} {size / 2**20:.1f}" for size, name in sorted(parts, reverse=True)[:5])
    packed = archive.stat().st_size
    print(f"\narchive {archive.name}: {packed / 2**20:.1f} MiB packed, {total / 2**20:.1f} MiB unpacked")
    exe_size = executable.stat().st_size
    print(f"  the executable (bootloader and every pure-Python module): {exe_size / 2**20:.1f} MiB")
    print(f"  of which this package's sources (uncompressed, no emulator or CLI): {own / 2**10:.0f} KiB")
    print(f"  native libraries and data in _internal/, largest (MiB): {largest}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21, help="starts per process (in 3 interleaved rounds)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive, standalone = standalone_plugin(Path(tmp))
        noop = install_launcher(Path(tmp))
        bare = {k: v for k, v in os.environ.items() if k.upper() in ("SYSTEMROOT", "TEMP", "TMP")}
        processes: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "no-op plugin": ([str(noop)], None),
            "console script": ([str(CONSOLE_SCRIPT)], None),
            "standalone": ([str(standalone)], bare),
        }
        for argv, env in processes.values():
            start_once(argv, env)  # warm the page cache
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in processes}
        per_round = max(args.runs // 3, 1)
        for _ in range(3):  # interleaved, so drift on a shared machine hits all alike
            for name, (argv, env) in processes.items():
                samples[name] += [start_once(argv, env) for _ in range(per_round)]
        result = {
            name: (statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs))
            for name, runs in samples.items()
        }
        print(f"{'process':<15} {'port ms':>8} {'1st call ms':>12}   (median of {per_round * 3} starts each)")
        for name, (listening, answered) in result.items():
            print(f"{name:<15} {listening * 1000:>8.0f} {answered * 1000:>12.0f}")
        base = result["no-op plugin"]
        for name in ("console script", "standalone"):
            ours = result[name]
            print(
                f"{name} over no-op: {(ours[0] - base[0]) * 1000:+.0f} ms to the port line, "
                f"{(ours[1] - base[1]) * 1000:+.0f} ms to the first answer; ratio {ours[1] / base[1]:.2f}"
                + (f" (target <= +{TARGET_MS} ms)" if name == "standalone" else "")
            )
        print_sizes(archive, standalone)


if __name__ == "__main__":
    main()
