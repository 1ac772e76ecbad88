"""Measure per-request latency of signed keep-alive connects against the amojo emulator.

Run: ``.venv/bin/python bench/emulator_latency.py [--count 200] [--url http://127.0.0.1:8765]``.
Without ``--url`` it starts an in-process emulator on a free port; with ``--url`` it talks to a
running ``--demo`` emulator. A median well under 5 ms is healthy; about 40 ms means a response left
the server in two writes and hit the Nagle/delayed-ACK stall (see ``emulator/server.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone

import requests

from kommo_provider import signing
from kommo_provider.emulator import (
    DEMO_ACCOUNT_IDS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    EmulatorServer,
)


def measure(base_url: str, count: int) -> list[float]:
    """Seconds taken by each of ``count`` signed connects sent on one keep-alive session."""
    path = f"/v2/origin/custom/{DEMO_CHANNEL_ID}/connect"
    body = signing.encode_json({"account_id": DEMO_ACCOUNT_IDS[0], "hook_api_version": "v2"})
    timings: list[float] = []
    with requests.Session() as session:
        for _ in range(count):
            headers = signing.signed_headers(
                DEMO_CHANNEL_SECRET, "POST", path, body, datetime.now(timezone.utc)
            )
            started = time.perf_counter()
            response = session.post(base_url + path, data=body, headers=headers, timeout=5)
            timings.append(time.perf_counter() - started)
            response.raise_for_status()
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200, help="connects to send (default 200)")
    parser.add_argument("--url", help="a running emulator started with --demo (default: start one)")
    args = parser.parse_args(argv)

    if args.url:
        timings = measure(args.url.rstrip("/"), args.count)
    else:
        with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}) as server:
            measure(server.url, 5)  # warm-up: imports, first connection
            timings = measure(server.url, args.count)

    ms = sorted(t * 1000 for t in timings)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    print(
        f"{len(ms)} keep-alive connects: median {statistics.median(ms):.2f} ms, "
        f"p90 {p90:.2f} ms, max {ms[-1]:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
