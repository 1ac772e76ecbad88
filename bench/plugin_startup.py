"""Start-up of the ``kommo`` plugin process against a no-op provider plugin, as the engine starts them.

Run: ``.venv/bin/python -m bench.plugin_startup [--runs 20]``. Each run spawns the process with an
engine address, times the port line on stdout (what the engine waits for) and the first answered
call (GetPluginInfo), then stops it. The no-op (``bench/noop_plugin.py``) imports the same gRPC and
Pulumi protocol modules and serves the same way, so the difference is this project's own start-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2_grpc

from bench.noop_plugin import install_launcher

KOMMO = Path(sys.executable).parent / "pulumi-resource-kommo"


def start_once(argv: list[str]) -> tuple[float, float]:
    """(seconds to the port line, seconds to the first answered call) for one process start."""
    started = time.perf_counter()
    proc = subprocess.Popen([*argv, "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
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


def measure(argv: list[str], runs: int) -> tuple[float, float]:
    start_once(argv)  # warm the page cache
    samples = [start_once(argv) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        noop = install_launcher(Path(tmp))
        # Interleave the two so drift on a shared machine hits both alike.
        rows: dict[str, list[tuple[float, float]]] = {"no-op plugin": [], "kommo plugin": []}
        for _ in range(3):
            rows["no-op plugin"].append(measure([str(noop)], args.runs // 3 or 1))
            rows["kommo plugin"].append(measure([str(KOMMO)], args.runs // 3 or 1))
    result = {
        name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        for name, runs in rows.items()
    }
    print(f"{'process':<14} {'port ms':>8} {'1st call ms':>12}   (median of {args.runs} starts each)")
    for name, (listening, answered) in result.items():
        print(f"{name:<14} {listening * 1000:>8.0f} {answered * 1000:>12.0f}")
    base, ours = result["no-op plugin"], result["kommo plugin"]
    print(
        f"kommo over no-op: {(ours[0] - base[0]) * 1000:+.0f} ms to the port line, "
        f"{(ours[1] - base[1]) * 1000:+.0f} ms to the first answer (target <= +150 ms); "
        f"ratio {ours[1] / base[1]:.2f}"
    )


if __name__ == "__main__":
    main()
