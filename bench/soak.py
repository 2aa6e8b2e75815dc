"""`python -m bench soak`: a bounded load at a fixed rate, with feedback, on loopback only.

Starts the service as deployed (gunicorn, 2 workers, SQLite file), measures the sustainable
rate of order-sign with a 600-resource prefetch, then sends hook calls at a fraction of that
rate for the given minutes (or number of requests), each followed by a feedback call on one of
the cards it returned. It samples the workers' resident memory every 10 s and, at the end,
checks that every acknowledged feedback item is in the database. It stops by itself.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import bodies, measure, servers


def _children_rss_kb(pid: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            text = status.read_text()
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            if int(fields.get("PPid", "0").strip()) == pid and "VmRSS" in fields:
                out[int(status.parent.name)] = int(fields["VmRSS"].split()[0])
    return out


WORKERS = 2


def _commit() -> str:
    from bench.run import _commit as commit

    return commit()


def _trend_mb_per_10k(samples: list[dict[str, Any]]) -> float | None:
    """Least-squares slope of resident memory against requests served (MB per 10 000
    requests) over `samples` (the second half of a run: after warm-up). Flat: about 0."""
    points = [(s["requests"], s["rss_kb"] / 1024) for s in samples if "requests" in s]
    if len(points) < 3 or points[-1][0] == points[0][0]:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return round(sxy / sxx * 10_000, 3) if sxx else None


def soak(minutes: float, rate: float, max_requests: int, size: int = 600) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="rheum-soak-")
    db = f"sqlite:///{tmp}/soak.db"
    raw = orjson.dumps(bodies.order_sign_body(size))
    with servers.service(workers=WORKERS, threads=1, storage_url=db) as (base, proc):
        sign = base + "/cds-services/rheum-order-sign"
        measured = measure.throughput(sign, raw, 2, 5.0)["rps"]
        rate = rate or max(1.0, round(measured * 0.7, 1))
        stop = time.monotonic() + minutes * 60
        interval = 1.0 / rate
        sent = errors = acked = feedback_errors = 0
        latencies: list[float] = []
        acked_keys: set[str] = set()
        rss: list[dict[str, Any]] = []
        next_sample = time.monotonic()
        next_send = time.monotonic()
        while time.monotonic() < stop and (not max_requests or sent < max_requests):
            now = time.monotonic()
            if now >= next_sample:
                rss.append(
                    {
                        "t_s": round(now - (stop - minutes * 60), 1),
                        "requests": sent,
                        "rss_kb": sum(_children_rss_kb(proc.pid).values()),
                    }
                )
                next_sample += 10
            if now < next_send:
                time.sleep(min(next_send - now, 0.05))
                continue
            next_send += interval
            t0 = time.perf_counter()
            try:
                status, answer = measure.request(sign, raw)
            except OSError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - t0)
            sent += 1
            if status != 200:
                errors += 1
                continue
            cards = orjson.loads(answer).get("cards", [])
            if not cards:
                continue
            card = cards[sent % len(cards)]
            item: dict[str, Any] = {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "no-alternative",
                        "system": "https://rheum-cds.org/override-reason",
                    },
                    "userComment": "soak",
                },
                "outcomeTimestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            fb_status, _ = measure.request(
                base + "/cds-services/rheum-order-sign/feedback",
                orjson.dumps({"feedback": [item]}),
            )
            if fb_status == 200:
                acked += 1
                acked_keys.add(card["uuid"])
            else:
                feedback_errors += 1
        rss.append(
            {
                "t_s": round(time.monotonic() - (stop - minutes * 60), 1),
                "requests": sent,
                "rss_kb": sum(_children_rss_kb(proc.pid).values()),
            }
        )

    from cds_service.storage import Storage

    stored = {row["card"] for row in Storage(db).feedback_rows()}
    missing = len(acked_keys - stored)
    first = rss[min(1, len(rss) - 1)]["rss_kb"]  # after warm-up
    last = rss[-1]["rss_kb"]
    growth = round((last - first) / first * 100, 1) if first else 0.0
    trend = _trend_mb_per_10k(rss[len(rss) // 2 :])
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "workers": WORKERS,
        "minutes": minutes,
        "resources_per_request": size,
        "rate_rps": rate,
        "measured_rps": measured,
        "hook_calls": sent,
        "hook_errors": errors,
        "latency": measure.summarise(latencies).as_dict(),
        "feedback_acknowledged": acked,
        "feedback_errors": feedback_errors,
        "feedback_missing_after_run": missing,
        "rss_samples": rss,
        "rss_growth_percent_after_warmup": growth,
        "trend_mb_per_10k_requests": trend,
        "ok": errors == 0 and feedback_errors == 0 and missing == 0 and growth < 10,
        "run_id": str(uuid.uuid4()),
    }
