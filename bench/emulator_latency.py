"""Per-request latency of the emulator on keep-alive connections, with its floor from the same run.

Run: ``.venv/bin/python bench/emulator_latency.py [--count 200] [--rounds 3] [--url URL]``.

Three clients on one ``requests.Session`` each, interleaved round by round: signed amojo connects,
REST ``GET /api/v4/account`` with the demo token, and the same connect against the canned server
(``bench/canned_server.py``: one fixed answer, no work), which is the floor of this client stack.
Servers run in this process unless ``--url`` names a running ``kommo-chat emulator --demo``. A median
well under 5 ms is healthy; about 40 ms means an answer left in two sends and met the Nagle/delayed-ACK
stall (see ``kommo_provider/emulator/server.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench` as a package when run as a file

from bench.canned_server import CannedHandler
from kommo_provider import signing
from kommo_provider.emulator import (
    DEMO_ACCESS_TOKEN,
    DEMO_ACCOUNT,
    DEMO_ACCOUNT_IDS,
    DEMO_CHANNEL_ID,
    DEMO_CHANNEL_SECRET,
    EmulatorServer,
)

CONNECT_PATH = f"/v2/origin/custom/{DEMO_CHANNEL_ID}/connect"
CONNECT_BODY = signing.encode_json({"account_id": DEMO_ACCOUNT_IDS[0], "hook_api_version": "v2"})

Sender = Callable[[requests.Session], requests.Response]


def connect_to(base_url: str) -> Sender:
    def send(session: requests.Session) -> requests.Response:
        headers = signing.signed_headers(
            DEMO_CHANNEL_SECRET, "POST", CONNECT_PATH, CONNECT_BODY, datetime.now(timezone.utc)
        )
        return session.post(base_url + CONNECT_PATH, data=CONNECT_BODY, headers=headers, timeout=5)

    return send


def get_account_from(base_url: str) -> Sender:
    headers = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}

    def send(session: requests.Session) -> requests.Response:
        return session.get(base_url + "/api/v4/account", headers=headers, timeout=5)

    return send


def measure(session: requests.Session, send: Sender, count: int) -> list[float]:
    """Seconds taken by each of ``count`` requests sent on one keep-alive session."""
    timings: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        response = send(session)
        timings.append(time.perf_counter() - started)
        response.raise_for_status()
    return timings


@contextmanager
def canned_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CannedHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def emulator(url: str | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    with EmulatorServer({DEMO_CHANNEL_ID: DEMO_CHANNEL_SECRET}, accounts=[DEMO_ACCOUNT]) as server:
        yield server.url


def summary(label: str, seconds: Sequence[float]) -> str:
    ms = sorted(t * 1000 for t in seconds)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    return f"{label:<34} median {statistics.median(ms):.2f} ms, p90 {p90:.2f} ms, max {ms[-1]:.2f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200, help="requests per client per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--url", help="a running emulator started with --demo (default: start one)")
    args = parser.parse_args(argv)

    with emulator(args.url) as base, canned_server() as floor:
        clients = {
            "amojo connect (signed POST)": connect_to(base),
            "REST GET /api/v4/account": get_account_from(base),
            "floor: canned server, same POST": connect_to(floor),
        }
        sessions = {label: requests.Session() for label in clients}
        timings: dict[str, list[float]] = {label: [] for label in clients}
        for label, send in clients.items():
            measure(sessions[label], send, 5)  # warm-up: imports, first connection
        for _ in range(args.rounds):
            for label, send in clients.items():
                timings[label] += measure(sessions[label], send, args.count)
        for session in sessions.values():
            session.close()

    print(f"{args.rounds} x {args.count} keep-alive requests per client, interleaved:")
    for label, seconds in timings.items():
        print("  " + summary(label, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
