"""Provider create through the provider process (gRPC, as the engine calls it) vs a bare signed POST.

Run: ``.venv/bin/python -m bench.provider_create [--count 300]``. Also prints the serialized
``__provider`` size per resource. Three paths, all measured in this run against one emulator
(its own process), each create a different account so every request is a real connect:

* bare: ``requests.post`` with headers signed for that request, from this process (the baseline);
* floor: gRPC Create of a no-op dynamic provider through the same provider process kind;
* bare in host: gRPC Create of a dynamic provider whose create is that bare signed POST, sent from
  inside the provider process (the like-for-like floor of a create that reaches the emulator);
* ours: gRPC Create of KommoChatChannelConnection (pacing off).

A create through the host costs the gRPC hop (floor) plus a POST sent from the provider process, which
costs more than the same POST from this process (another process to wake on each side: on 2 cores the
three processes take turns). So the Kommo provider's own cost is ``ours - bare in host``; target:
``ours / bare in host <= 1.2``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from engine_harness import ProviderProcess, registered_inputs

from bench.common import emulator_process
from bench.noop import BarePost, Noop
from kommo_provider import KommoChatChannelConnection, signing
from kommo_provider.emulator import DEMO_CHANNEL_ID, DEMO_CHANNEL_SECRET


def account(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def per_call_ms(call: Callable[[int], None], count: int, offset: int) -> float:
    for i in range(20):
        call(offset + 100_000 + i)
    started = time.perf_counter()
    for i in range(count):
        call(offset + i)
    return (time.perf_counter() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with emulator_process() as url:
        typ, kommo_inputs = registered_inputs(
            lambda: KommoChatChannelConnection(
                "conn",
                channel_id=DEMO_CHANNEL_ID,
                channel_secret=DEMO_CHANNEL_SECRET,
                account_id=account(0),
                base_url=url,
            )
        )
        noop_typ, noop_inputs = registered_inputs(lambda: Noop("noop", key="k"))
        post_typ, post_inputs = registered_inputs(
            lambda: BarePost(
                "post",
                channel_id=DEMO_CHANNEL_ID,
                channel_secret=DEMO_CHANNEL_SECRET,
                account_id=account(0),
                base_url=url,
            )
        )
        print(
            f"serialized __provider per resource: {len(kommo_inputs['__provider'])} chars "
            f"(target <= 2048; no-op provider: {len(noop_inputs['__provider'])})"
        )

        session = requests.Session()
        path = f"/v2/origin/custom/{DEMO_CHANNEL_ID}/connect"

        def bare(i: int) -> None:
            body = signing.encode_json({"account_id": account(i), "hook_api_version": "v2"})
            headers = signing.signed_headers(
                DEMO_CHANNEL_SECRET, "POST", path, body, datetime.now(timezone.utc)
            )
            assert session.post(url + path, data=body, headers=headers, timeout=5).status_code == 200

        with ProviderProcess() as kommo, ProviderProcess() as noop, ProviderProcess() as post:
            kommo.configure({"kommo:maxRequestsPerSecond": "0"})
            noop.configure({})
            post.configure({})
            kommo.for_resource(typ, "conn")
            noop.for_resource(noop_typ, "noop")
            post.for_resource(post_typ, "post")

            def ours(i: int) -> None:
                kommo.create(dict(kommo_inputs, account_id=account(i)))

            def floor(i: int) -> None:
                noop.create(dict(noop_inputs, key=str(i)))

            def in_host(i: int) -> None:
                post.create(dict(post_inputs, account_id=account(i)))

            results: dict[str, list[float]] = {"bare": [], "floor": [], "host": [], "ours": []}
            for r in range(args.repeats):  # interleaved, so drift hits all four alike
                base = (r + 1) * 1_000_000
                results["bare"].append(per_call_ms(bare, args.count, base))
                results["floor"].append(per_call_ms(floor, args.count, base))
                results["host"].append(per_call_ms(in_host, args.count, base + 250_000))
                results["ours"].append(per_call_ms(ours, args.count, base + 500_000))
    bare_ms, floor_ms, host_ms, ours_ms = (min(results[k]) for k in ("bare", "floor", "host", "ours"))
    print(f"bare signed requests.post     : {bare_ms:6.2f} ms per create (from this process)")
    print(f"no-op provider via gRPC       : {floor_ms:6.2f} ms per create (floor of the gRPC hop)")
    print(f"bare POST in the provider host: {host_ms:6.2f} ms per create (like-for-like floor)")
    print(f"Kommo provider via gRPC       : {ours_ms:6.2f} ms per create")
    print(f"ratio Kommo provider / bare POST in the host : {ours_ms / host_ms:6.2f} (target <= 1.2)")
    print(f"Kommo provider's own cost over that floor    : {ours_ms - host_ms:6.2f} ms")
    print(
        f"a POST from the host costs {host_ms - floor_ms:.2f} ms over the gRPC hop, against "
        f"{bare_ms:.2f} ms from this process"
    )


if __name__ == "__main__":
    main()
