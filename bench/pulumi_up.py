"""``pulumi up`` wall time under the real CLI: Kommo connections vs the same stack of no-op resources.

Run: ``.venv/bin/python -m bench.pulumi_up [--sizes 1,10,100] [--rate-limited 200]``. Needs the CLI
from scripts/get-pulumi.sh. Every stack is created, timed on ``up``, destroyed, on a temporary file
backend; the emulator runs in this process (the provider process talks to it over loopback).

1. For each size N: up of N KommoChatChannelConnection (request pacing off) vs up of N no-op dynamic
   resources. The ratio shows what the Kommo provider adds to Pulumi's own per-resource cost.
2. ``--rate-limited N``: N connections against the emulator limited to 7 requests/s, with the
   provider's default pacing (7/s). Failures (target 0) and wall time over the N/7 s floor (target <= 1.1).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pulumi import automation as auto

from bench.noop import Noop
from kommo_provider import KommoChatChannelConnection
from kommo_provider.emulator import DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET, EmulatorServer
from kommo_provider.stack_runner import LocalStack


def account(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def kommo_program(url: str, n: int) -> Callable[[], None]:
    def program() -> None:
        for i in range(n):
            KommoChatChannelConnection(
                f"c{i}",
                channel_id=DEMO_CHANNEL_ID,
                channel_secret=DEMO_CHANNEL_SECRET,
                account_id=account(i),
                base_url=url,
            )

    return program


def noop_program(n: int) -> Callable[[], None]:
    def program() -> None:
        for i in range(n):
            Noop(f"c{i}", key=str(i))

    return program


def timed_up(program: Callable[[], None], name: str, root: Path, config: dict[str, str]) -> tuple[float, int]:
    """(seconds for up, resources created); the stack is destroyed afterwards."""
    stack = LocalStack(name, program, state_dir=root / "state", passphrase="bench", work_dir=root)
    stack.set_config(config)
    started = time.perf_counter()
    result = stack.stack.up()
    elapsed = time.perf_counter() - started
    created = (result.summary.resource_changes or {}).get(auto.OpType.CREATE, 0)
    stack.stack.destroy()
    return elapsed, created


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--rate-limited", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}) as emu:
        root = Path(tmp)
        print(f"{'N':>5} {'noop up s':>10} {'kommo up s':>11} {'ratio':>6} {'kommo-noop s':>13}")
        for n in sizes:
            noop_s, _ = timed_up(noop_program(n), f"noop{n}", root, {})
            kommo_s, created = timed_up(
                kommo_program(emu.url, n), f"kommo{n}", root, {"kommo:maxRequestsPerSecond": "0"}
            )
            assert created == n + 1, created
            print(
                f"{n:>5} {noop_s:>10.2f} {kommo_s:>11.2f} {kommo_s / noop_s:>6.2f} {kommo_s - noop_s:>13.2f}"
            )
        if args.rate_limited:
            n = args.rate_limited
            emu.backend.reset()
            emu.faults.set_rate_limit(7)
            started = time.time()
            seconds, created = timed_up(kommo_program(emu.url, n), f"limited{n}", root, {})
            posts = sorted(r.received_at for r in emu.backend.requests() if r.method == "POST")
            rejected = sum(1 for r in emu.backend.requests() if r.status == 429)
            gaps = [b - a for a, b in itertools.pairwise(posts)]
            emu.faults.set_rate_limit(None)
            floor = n / 7
            print(f"\n{n} connections, emulator limited to 7 requests/s, default pacing (7/s):")
            print(f"  created {created - 1}/{n}, failures {n - (created - 1)}, 429 answers {rejected}")
            print(
                f"  up wall time {seconds:.1f} s; floor {n}/7 = {floor:.1f} s; ratio {seconds / floor:.2f} "
                f"(target <= 1.1)"
            )
            print(
                f"  first connect {posts[0] - started:.1f} s after up started; connects spanned "
                f"{posts[-1] - posts[0]:.1f} s (pacing alone: {(n - 1) / 7:.1f} s); "
                f"mean gap {sum(gaps) / len(gaps) * 1000:.0f} ms, max gap {max(gaps) * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()
