"""Gunicorn settings for the container and the Helm chart.

    gunicorn --config deploy/gunicorn.conf.py 'cds_service.app:create_app()'

Every setting can be changed by environment variable, so one image serves every size:

    PORT                 port to listen on (default 8080, all interfaces)
    GUNICORN_WORKERS     worker processes (default: number of CPUs, at least 2)
    GUNICORN_WORKER_CLASS  gevent (default): connections are read cooperatively, so slow
                         clients cannot tie up the workers even without the proxy the compose
                         file and the Helm chart put in front; gthread or sync otherwise
    GUNICORN_THREADS     threads per worker with gthread (default 1: the hook handler is
                         CPU-bound; FHIR fetches run concurrently inside a request)
    GUNICORN_CONNECTIONS simultaneous connections per gevent worker (default 1000)
    GUNICORN_TIMEOUT     seconds before a silent worker is restarted (default 30; keep it well
                         above the service's deadline_ms)
    GUNICORN_MAX_REQUESTS  recycle a worker after this many requests (default 5000, with jitter)
    FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted (default 127.0.0.1)

Prometheus metrics are added up across workers (cds_service/metrics.py): when
PROMETHEUS_MULTIPROC_DIR is unset, a fresh directory under the temporary directory is made
before the workers start, and a dead worker's live gauges are dropped.

The access log goes to stdout without query strings or headers (CDS Hooks URLs carry no
patient data; the log must not either).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = f"0.0.0.0:{_int('PORT', 8080)}"
workers = _int("GUNICORN_WORKERS", max(2, os.cpu_count() or 1))
threads = _int("GUNICORN_THREADS", 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
if worker_class == "gthread" and threads == 1:
    worker_class = "sync"
elif worker_class == "gevent":
    # gunicorn's gevent worker with a leaner connection loop (same parser, limits and
    # deadlines): cds_service/gevent_worker.py
    worker_class = "cds_service.gevent_worker.GeventWorker"
worker_connections = _int("GUNICORN_CONNECTIONS", 1000)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# /dev/shm keeps the worker heartbeat off a (possibly read-only or slow) disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
preload_app = False  # each worker opens its own database pool


def on_starting(server: Any) -> None:
    # as `rheum-cds serve`: gunicorn's Date text once a second, headers sent with the body
    from cds_service.commands.serve import tune_gunicorn

    tune_gunicorn()
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rheum-cds-metrics-")


def worker_exit(server: Any, worker: Any) -> None:
    # Commit the audit and issued-card rows the worker's writer still holds (a graceful stop
    # or max_requests recycle loses none of them).
    from cds_service.storage import close_app_storage

    close_app_storage(getattr(worker, "wsgi", None))
    # Flush the logs and drop logging's weak handler references before teardown (with gevent
    # their callbacks would otherwise print tracebacks at every worker exit).
    import logging

    logging.shutdown()
    logging._handlerList.clear()  # type: ignore[attr-defined]


def child_exit(server: Any, worker: Any) -> None:
    from cds_service import metrics

    metrics.child_exit(server, worker)


def post_worker_init(worker: Any) -> None:
    # The app's long-lived objects leave the collector's reach and young collections run
    # rarely (cds_service/heap.py), as in `rheum-cds serve`.
    from cds_service import heap

    heap.settle()
