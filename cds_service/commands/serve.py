"""`rheum-cds serve`: run the service under gunicorn.

The defaults need no file and no other server: SQLite storage in the working directory, port
8080 on loopback. The configuration and knowledge are read (and checked) once in the master
process, so an invalid file stops start-up with a message naming the key; each worker then
builds its own app (database connections and HTTP pools are never shared across a fork).
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

HELP = "serve the CDS Hooks service (gunicorn)"
WORKER_CLASSES = ("gevent", "gthread", "sync")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_BASE_URL = "http://localhost:8080"  # config.Config.base_url default
GEVENT_WORKER = "cds_service.gevent_worker.GeventWorker"  # what --worker-class gevent runs

log = logging.getLogger("rheum_cds")


def per_second(http_date: Callable[..., str]) -> Callable[..., str]:
    """`http_date` (gunicorn.util's: the Date header's text for now, or for a timestamp) made
    once per second: the text names whole seconds, and gunicorn writes it on every response
    just before the first byte (email.utils.formatdate: ~50 us of CPU on a cold cache)."""
    latest = (-1, "")

    def once_a_second(timestamp: float | None = None) -> str:
        nonlocal latest
        if timestamp is not None:
            return http_date(timestamp)
        now = int(time.time())  # formatdate shows the whole second: the same text
        seen = latest  # one tuple: threads read a second and its text together
        if seen[0] != now:
            seen = latest = (now, http_date(now))
        return seen[1]

    once_a_second.per_second = True  # type: ignore[attr-defined]
    return once_a_second


def _date_once_a_second() -> None:
    from gunicorn import util

    if not getattr(util.http_date, "per_second", False):
        util.http_date = per_second(util.http_date)


def headers_with_body(response: type) -> Callable[[Any, bytes], None]:
    """gunicorn's `Response.write` that sends the header block and the first body piece in
    one `sendall` when the piece is the whole declared body or a part of it: gunicorn writes
    them in two, so the client is woken twice and the kernel passes two segments over the
    connection for every answer (the hook answers are one piece with a Content-Length). The
    bytes on the wire are the same; any other response (chunked, no Content-Length, a body
    the method or status omits, a piece past the declared length, a Response subclass) is
    written by `response`'s own `write`."""
    from cds_service.plain_answer import sent_with_head

    write = response.write

    def write_with_headers(self: Any, arg: bytes) -> None:
        if type(self) is not response or not sent_with_head(self, arg):
            write(self, arg)

    write_with_headers.headers_with_body = True  # type: ignore[attr-defined]
    return write_with_headers


def tune_gunicorn() -> None:
    """The two changes to gunicorn's response writing `rheum-cds serve` and the container's
    gunicorn.conf.py make, each once: the Date text once a second, headers with the body."""
    from gunicorn.http import wsgi

    _date_once_a_second()
    if not getattr(wsgi.Response.write, "headers_with_body", False) and hasattr(
        wsgi.Response, "default_headers"
    ):
        wsgi.Response.write = headers_with_body(wsgi.Response)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="accept hook calls without a JWT (local development and the sandbox only)",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help=(
            "trust the public CDS Hooks sandbox (https://sandbox.cds-hooks.org): its published "
            "key inline, its origin for CORS, the FHIR servers it offers, the demo clinic's "
            "codes; accepts unsigned calls (demo data only)"
        ),
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument(
        "--worker-class",
        choices=WORKER_CLASSES,
        default="gevent",
        help=(
            "gevent (default): each connection is read cooperatively, so slow clients cannot "
            "tie up the workers; gthread/sync: a thread per request being read (put a "
            "buffering proxy in front)"
        ),
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per worker with --worker-class gthread (4; 1 = sync workers)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=1000,
        help="simultaneous connections per gevent worker (1000)",
    )
    parser.add_argument("--timeout", type=int, default=30, help="worker timeout, seconds (30)")


def _prepare_metrics_dir() -> None:
    # Several workers share Prometheus samples through files; prometheus_client reads this
    # variable when first imported, so it must be set before the service is imported.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        directory = tempfile.mkdtemp(prefix="rheum-cds-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        master = os.getpid()
        atexit.register(lambda: os.getpid() == master and shutil.rmtree(directory, True))


def startup_notes(config: Any) -> list[tuple[int, str]]:
    """What to register in a CDS client, whom the service trusts and which FHIR servers it
    will contact: (log level, sentence) pairs for the start-up log."""
    from cds_service.presets import sandbox

    discovery = config.base_url.rstrip("/") + "/cds-services"
    notes = [
        (
            logging.INFO,
            f"register {discovery} in the CDS client (the CDS Hooks sandbox: 'Add CDS "
            "Services'), exactly as written: a signed call's aud must be this URL + the "
            "service path, so registering another host name or address for the same "
            "server (127.0.0.1 for localhost) fails as bad_aud; change service.base_url "
            "(RHEUM_CDS_BASE_URL) to the URL clients call",
        )
    ]
    if config.sandbox:
        preset = sandbox()
        kids = ", ".join(k.get("kid", "?") for k in preset.client.jwks.get("keys", []))
        notes.append(
            (
                logging.INFO,
                f"sandbox mode: trusting {preset.client.issuer} with its published key "
                f"(kid {kids}) shipped inline, no egress needed; its jku is fetched only "
                f"for another kid; browser origin {preset.origin} allowed",
            )
        )
        notes.append(
            (
                logging.WARNING,
                "sandbox mode: the sandbox's private signing key is public, so anyone can "
                "sign as the sandbox; use demo charts only, never real patient data",
            )
        )
    listed = sorted({s for c in config.clients for s in c.fhir_servers})
    where = ", ".join(listed) if listed else "none listed"
    loopback = " and any loopback server (e.g. a local HAPI)" if config.allow_unsigned else ""
    notes.append(
        (
            logging.INFO,
            f"FHIR servers it will contact when a call names them: {where}{loopback}; any "
            "other fhirServer is never contacted and the call is answered from its prefetch",
        )
    )
    if config.cors_origins:
        notes.append((logging.INFO, "CORS origins: " + ", ".join(config.cors_origins)))
    else:
        notes.append(
            (
                logging.INFO,
                "CORS: no browser origin allowed (service.cors_origins); a browser-based "
                "client such as the sandbox needs its origin listed, or --sandbox",
            )
        )
    return notes


def _worker_exit(_server: Any, worker: Any) -> None:
    from cds_service.storage import close_app_storage

    close_app_storage(getattr(worker, "wsgi", None))  # commit the queued audit rows
    _release_logging()


def _release_logging() -> None:
    """Flush the logs and drop logging's weak references to its handlers before the
    interpreter tears down: their callbacks would otherwise take a lock after gevent's hub
    is gone and print tracebacks at every worker exit."""
    logging.shutdown()
    logging._handlerList.clear()  # type: ignore[attr-defined]


def _is_loopback_bind(host: str) -> bool:
    """A bind address only this machine can reach (a name is resolved: every address of it
    must be loopback)."""
    import ipaddress
    import socket

    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def main(args: argparse.Namespace) -> int:
    if args.workers < 1 or args.threads < 1 or not 0 < args.port < 65536:
        print("rheum-cds serve: --workers and --threads must be >= 1, --port 1-65535")
        return 2
    worker_class = getattr(args, "worker_class", "gevent")
    if worker_class == "gthread" and args.threads == 1:
        worker_class = "sync"
    if worker_class == "gevent":
        # Before anything else is imported (ssl, sockets, threads in the service modules):
        # the workers are forked from this process and inherit the cooperative versions.
        from gevent import monkey

        monkey.patch_all()
    _prepare_metrics_dir()

    from gunicorn.app.base import BaseApplication

    from cds_service import metrics
    from cds_service.config import ConfigError, load_config, with_sandbox
    from cds_service.knowledge import KnowledgeError, load_knowledge
    from cds_service.logs import configure_logging

    try:
        config = load_config(args.config)
        if args.sandbox:
            config = with_sandbox(config)
        # the institution's rule parameters and local codes ([rules.<ID>], [codes])
        knowledge = load_knowledge(overrides=config.rule_overrides, local_codes=config.local_codes)
    except (ConfigError, KnowledgeError) as exc:
        print(f"rheum-cds serve: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.allow_unsigned:
        config = dataclasses.replace(config, allow_unsigned=True)
    if config.allow_unsigned and not _is_loopback_bind(args.host):
        print(
            f"rheum-cds serve: unsigned mode accepts calls without a JWT, so it binds loopback "
            f"only; --host {args.host} is not a loopback address (sign the calls, or use "
            "--host 127.0.0.1)",
            file=sys.stderr,
        )
        return 2
    if config.base_url == DEFAULT_BASE_URL and args.port != DEFAULT_PORT:
        config = dataclasses.replace(config, base_url=f"http://localhost:{args.port}")
    configure_logging(config.log_level)
    if config.allow_unsigned:
        log.warning(
            "UNSIGNED MODE: hook and feedback calls WITHOUT A JWT ARE ACCEPTED. Use only for "
            "local development or the sandbox on loopback; never expose this service."
        )
    for level, note in startup_notes(config):
        log.log(level, note)

    class Service(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                # gunicorn would run "sync" with threads > 1 as gthread: threads only count
                # for gthread
                "threads": args.threads if worker_class == "gthread" else 1,
                # gevent: gunicorn's gevent worker with a leaner connection loop
                # (cds_service/gevent_worker.py), same parser, limits and deadlines
                "worker_class": GEVENT_WORKER if worker_class == "gevent" else worker_class,
                "worker_connections": getattr(args, "connections", 1000),
                "timeout": args.timeout,
                # the request line and headers are bounded in size (and, with gevent, read
                # without holding a worker); an idle keep-alive connection is closed after 5 s
                "keepalive": 5,
                "limit_request_line": 8190,
                "limit_request_fields": 100,
                "limit_request_field_size": 8190,
                "graceful_timeout": 10,
                "accesslog": None,  # the app logs one JSON line per request (logs.py)
                # gunicorn's own debug lines name request paths: info at most
                "loglevel": "info" if config.log_level.upper() == "DEBUG" else config.log_level,
                "child_exit": metrics.child_exit,
                "worker_exit": _worker_exit,
                "proc_name": "rheum-cds",
            }
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1
                options["control_socket_disable"] = True  # several instances may run at once
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from cds_service import heap
            from cds_service.app import create_app

            app = create_app(config, knowledge)
            heap.settle()  # long-lived objects out of the collector's reach (heap.py)
            return app

    log.info(
        "serving",
        extra={
            "fields": {
                "bind": f"{args.host}:{args.port}",
                "workers": args.workers,
                "worker_class": worker_class,
                "threads": args.threads if worker_class == "gthread" else 1,
                "base_url": config.base_url,
                "unsigned": config.allow_unsigned,
                "sandbox": config.sandbox,
            }
        },
    )
    tune_gunicorn()
    try:
        Service().run()
    finally:
        if worker_class == "gevent":
            _release_logging()
    return 0
