"""Connects per second: ChatApiClient vs a bare ``requests`` POST with precomputed headers.

Run: ``.venv/bin/python bench/connect_rate.py [--count 2000]``. Both talk to the same emulator
(its own process) over one keep-alive connection; the bare loop is the baseline (target: client
>= 0.85 of it). The emulator's median latency is printed first so a stalled server is visible.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

import requests

from bench.common import best_of, canned_server_process, emulator_process, rate
from kommo_provider import signing
from kommo_provider.client import ChatApiClient
from kommo_provider.emulator import DEMO_ACCOUNT_IDS, DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET
from kommo_provider.payloads import ChannelCredentials


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    account = DEMO_ACCOUNT_IDS[0]
    with emulator_process() as url:
        path = f"/v2/origin/custom/{DEMO_CHANNEL_ID}/connect"
        body = signing.encode_json({"account_id": account, "hook_api_version": "v2"})
        headers = signing.signed_headers(DEMO_CHANNEL_SECRET, "POST", path, body, datetime.now(timezone.utc))
        session = requests.Session()

        def bare() -> None:
            response = session.post(url + path, data=body, headers=headers, timeout=5)
            assert response.status_code == 200

        client = ChatApiClient(url, max_requests_per_second=None)
        channel = ChannelCredentials(DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET)

        def ours() -> None:
            client.connect(channel, account)

        bare_rate = best_of(args.repeats, lambda: rate(bare, args.count))
        ours_rate = best_of(args.repeats, lambda: rate(ours, args.count))
    with canned_server_process() as canned:
        floor_session = requests.Session()

        def floor() -> None:
            floor_session.post(canned + path, data=body, headers=headers, timeout=5)

        floor_rate = best_of(args.repeats, lambda: rate(floor, args.count))
    print(
        f"requests -> canned server    : {1000 / floor_rate:6.2f} ms per request (HTTP floor, no server work)"
    )
    print(
        f"requests -> emulator         : {1000 / bare_rate:6.2f} ms per request "
        f"(emulator's own cost {1000 / bare_rate - 1000 / floor_rate:+.2f} ms)"
    )
    print(f"bare requests.post, presigned: {bare_rate:8.0f} connects/s (baseline)")
    print(f"ChatApiClient.connect        : {ours_rate:8.0f} connects/s")
    print(f"ratio client / bare          : {ours_rate / bare_rate:8.2f} (target >= 0.85)")


if __name__ == "__main__":
    main()
