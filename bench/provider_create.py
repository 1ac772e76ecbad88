"""Provider create through the provider process (gRPC, as the engine calls it) vs a bare signed POST.

Run: ``.venv/bin/python -m bench.provider_create [--count 300]``. Also prints the serialized
``__provider`` size per resource. Three paths, all measured in this run against one emulator
(its own process), each create a different account so every request is a real connect:

* bare: ``requests.post`` with headers signed for that request (the baseline);
* floor: gRPC Create of a no-op dynamic provider through the same provider process kind;
* ours: gRPC Create of KommoChatChannelConnection (pacing off).

Target: ours / bare <= 1.2. ``ours - floor`` is what the Kommo provider adds over the gRPC hop.
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
from bench.noop import Noop
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

        with ProviderProcess() as kommo, ProviderProcess() as noop:
            kommo.configure({"kommo:maxRequestsPerSecond": "0"})
            noop.configure({})
            kommo.for_resource(typ, "conn")
            noop.for_resource(noop_typ, "noop")

            def ours(i: int) -> None:
                kommo.create(dict(kommo_inputs, account_id=account(i)))

            def floor(i: int) -> None:
                noop.create(dict(noop_inputs, key=str(i)))

            results: dict[str, list[float]] = {"bare": [], "floor": [], "ours": []}
            for r in range(args.repeats):  # interleaved, so drift hits all three alike
                base = (r + 1) * 1_000_000
                results["bare"].append(per_call_ms(bare, args.count, base))
                results["floor"].append(per_call_ms(floor, args.count, base))
                results["ours"].append(per_call_ms(ours, args.count, base + 500_000))
    bare_ms, floor_ms, ours_ms = (min(results[k]) for k in ("bare", "floor", "ours"))
    print(f"bare signed requests.post     : {bare_ms:6.2f} ms per create (baseline)")
    print(f"no-op provider via gRPC       : {floor_ms:6.2f} ms per create (floor of the gRPC hop)")
    print(f"Kommo provider via gRPC       : {ours_ms:6.2f} ms per create")
    print(f"ratio Kommo provider / bare   : {ours_ms / bare_ms:6.2f} (target <= 1.2)")
    print(
        f"provider cost over the floor  : {ours_ms - floor_ms:6.2f} ms "
        f"= {(ours_ms - floor_ms) / bare_ms:.2f} x bare"
    )


if __name__ == "__main__":
    main()
