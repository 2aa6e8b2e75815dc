"""Latency and throughput measurement over plain HTTP/1.1 on loopback.

One client process, standard library only, so that the client's own cost is the same for the
service, the floors and the alternative it is compared with.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit


@dataclass
class Stats:
    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    errors: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(latencies_s: list[float], errors: int = 0) -> Stats:
    ms = [x * 1000 for x in latencies_s]
    return Stats(
        n=len(ms),
        p50_ms=round(percentile(ms, 0.50), 3),
        p95_ms=round(percentile(ms, 0.95), 3),
        p99_ms=round(percentile(ms, 0.99), 3),
        mean_ms=round(statistics.fmean(ms), 3) if ms else float("nan"),
        errors=errors,
    )


def request(
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, bytes]:
    """One request on a fresh connection (gunicorn's sync workers close after each)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        conn.request("POST" if body is not None else "GET", path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def latency(
    url: str, body: bytes | None, n: int, warmup: int = 5, headers: dict[str, str] | None = None
) -> Stats:
    for _ in range(warmup):
        request(url, body, headers)
    out: list[float] = []
    errors = 0
    for _ in range(n):
        t0 = time.perf_counter()
        status, _ = request(url, body, headers)
        out.append(time.perf_counter() - t0)
        errors += status >= 400
    return summarise(out, errors)


def throughput(
    url: str,
    body: bytes | None,
    concurrency: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    """Requests per second with `concurrency` closed-loop clients for `seconds`."""
    stop = time.perf_counter() + seconds
    counts = [0] * concurrency
    errors = [0] * concurrency

    def worker(i: int) -> None:
        while time.perf_counter() < stop:
            try:
                status, _ = request(url, body, headers)
            except OSError:
                errors[i] += 1
                continue
            counts[i] += 1
            errors[i] += status >= 400

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {
        "rps": round(sum(counts) / elapsed, 1),
        "requests": sum(counts),
        "errors": sum(errors),
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
    }


def time_call(fn, n: int, warmup: int = 3) -> Stats:  # type: ignore[no-untyped-def]
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return summarise(out)


def interleaved_latency(
    targets: dict[str, str], body: bytes | None, n: int, warmup: int = 5
) -> dict[str, Stats]:
    """One client calls each target in turn, n rounds (the order rotates every round), so
    that every target sees the same machine load; latency per target."""
    names = list(targets)
    for name in names:
        for _ in range(warmup):
            request(targets[name], body)
    out: dict[str, list[float]] = {name: [] for name in names}
    errors = dict.fromkeys(names, 0)
    for i in range(n):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            status, _ = request(targets[name], body)
            out[name].append(time.perf_counter() - t0)
            errors[name] += status >= 400
    return {name: summarise(out[name], errors[name]) for name in names}


def interleaved_throughput(
    targets: dict[str, str],
    body: bytes | None,
    concurrency: int,
    seconds_each: float,
    rounds: int,
) -> dict[str, dict[str, float]]:
    """Closed-loop throughput with `concurrency` clients, target after target, `rounds` times
    (order rotating) for `seconds_each` per turn; requests/s over all turns of a target."""
    names = list(targets)
    totals = {name: {"requests": 0, "errors": 0, "seconds": 0.0} for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t = throughput(targets[name], body, concurrency, seconds_each)
            totals[name]["requests"] += t["requests"]
            totals[name]["errors"] += t["errors"]
            totals[name]["seconds"] += t["seconds"]
    return {
        name: {
            "rps": round(t["requests"] / t["seconds"], 1) if t["seconds"] else 0.0,
            "requests": t["requests"],
            "errors": t["errors"],
            "concurrency": concurrency,
            "seconds": round(t["seconds"], 2),
        }
        for name, t in totals.items()
    }
