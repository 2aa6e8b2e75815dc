"""`python -m bench memory`: resident memory of one worker over N hook calls, as fast as it serves.

Starts `rheum-cds serve` (one worker of the default class, SQLite, audit writer on), sends N
order-sign calls, each for its own chart and patient, from two client threads with no pause,
and samples the worker's resident memory every 10 s. Flat means: after warm-up (the first half
of the samples dropped) the least-squares slope is about 0 MB per 10 000 requests. `bench soak`
is the slower companion with feedback on every card (feedback on a card issued by the other
worker waits for its batch, so it runs at tens of calls a second).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from bench import bodies, measure, servers
from bench.soak import _children_rss_kb, _commit, _trend_mb_per_10k

SAMPLE_EVERY_S = 10.0
CLIENTS = 2


def _body(size: int, number: int) -> bytes:
    """The `number`th call's body: its own chart (values and dates drawn from its own seed),
    patient id and hook instance, so that anything the service keeps per chart, patient or
    call would show as growth (one body sent again and again hides such a leak)."""
    body = bodies.order_sign_body(size, seed=number)
    body["hookInstance"] = str(uuid.UUID(int=number))
    body["context"]["patientId"] = f"bench-{number}"
    return orjson.dumps(body)


def memory(requests: int, size: int = 50) -> dict[str, Any]:
    with servers.service(workers=1, threads=1) as (base, proc):
        sign = base + "/cds-services/rheum-order-sign"
        lock = threading.Lock()
        counts = {"sent": 0, "errors": 0}

        def client() -> None:
            while True:
                with lock:
                    if counts["sent"] >= requests:
                        return
                    counts["sent"] += 1
                    number = counts["sent"]
                status, _ = measure.request(sign, _body(size, number))
                if status != 200:
                    with lock:
                        counts["errors"] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        samples: list[dict[str, Any]] = []
        while True:
            alive = any(thread.is_alive() for thread in threads)
            samples.append(
                {
                    "t_s": round(time.monotonic() - started, 1),
                    "requests": counts["sent"],
                    "rss_kb": sum(_children_rss_kb(proc.pid).values()),
                }
            )
            if not alive:
                break
            time.sleep(SAMPLE_EVERY_S)
    second_half = samples[len(samples) // 2 :]
    first, last = second_half[0]["rss_kb"] / 1024, samples[-1]["rss_kb"] / 1024
    trend = _trend_mb_per_10k(second_half)
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "requests": counts["sent"],
        "errors": counts["errors"],
        "resources_per_request": size,
        "seconds": samples[-1]["t_s"],
        "rss_mb_after_warmup": round(first, 1),
        "rss_mb_end": round(last, 1),
        "trend_mb_per_10k_requests": trend,
        "flat": trend is not None and abs(trend) < 0.5,
        "samples": samples,
    }
