"""`rheum-cds serve`'s default worker (cds_service/gevent_worker.py: gunicorn's gevent worker
with a leaner connection loop) serves connections as gunicorn's gevent worker does: kept-alive
and pipelined requests are answered, a client that closes after its answer ends the
connection, an idle kept-alive connection and a request head that has not arrived within the
keep-alive time (5 s) are closed, and gunicorn's request-line limit still refuses a longer one.
Plain hook heads, which the worker reads itself (request_head.py), mix with heads gunicorn's
parser reads on one connection; a body the service did not read is skipped, never served as a
request; the framing shapes of request smuggling meet gunicorn's refusal. Loopback only, raw
sockets, bounded in count and time."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.service import ServedService, start_service

KEEPALIVE_S = 5  # serve's keepalive setting (docs/reliability.md)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedService]:
    work = tmp_path_factory.mktemp("gevent-worker")
    service = start_service(work, f"sqlite:///{work / 'cds.db'}", workers=1)
    try:
        yield service
    finally:
        service.stop()


def _connect(served: ServedService) -> socket.socket:
    port = int(served.base_url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=15)


def _discovery(close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return b"GET /cds-services HTTP/1.1\r\nHost: 127.0.0.1\r\n" + connection + b"\r\n"


def _read_response(sock: socket.socket, buffered: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body (what the service sends)."""
    while b"\r\n\r\n" not in buffered:
        data = sock.recv(65536)
        assert data, "the connection closed before an answer"
        buffered += data
    head, _, rest = bytes(buffered).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        data = sock.recv(65536)
        assert data, "the connection closed within an answer"
        rest += data
    buffered[:] = rest[length:]
    return status, headers, rest[:length]


def _closed_by_server(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_serve_runs_the_lean_gevent_worker(served: ServedService) -> None:
    with _connect(served) as sock:
        sock.sendall(_discovery(close=True))
        assert _read_response(sock, bytearray())[0] == 200
    log = served.log_path.read_text()
    assert "Using worker: cds_service.gevent_worker.GeventWorker" in log, log[-2000:]


def test_kept_alive_connection_serves_one_request_after_another(served: ServedService) -> None:
    with _connect(served) as sock:
        buffered = bytearray()
        for _ in range(3):
            sock.sendall(_discovery())
            status, headers, body = _read_response(sock, buffered)
            assert status == 200
            assert headers.get("connection", "keep-alive").lower() != "close"
            assert json.loads(body)["services"]
        sock.sendall(_discovery(close=True))
        assert _read_response(sock, buffered)[0] == 200
        assert _closed_by_server(sock, within_s=5)


def test_pipelined_requests_are_all_answered_in_order(served: ServedService) -> None:
    with _connect(served) as sock:
        sock.sendall(
            _discovery()
            + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            + b"GET /no-such-page HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        buffered = bytearray()
        first, _, body = _read_response(sock, buffered)
        assert first == 200 and json.loads(body)["services"]
        assert _read_response(sock, buffered)[0] == 200
        assert _read_response(sock, buffered)[0] == 404
        assert _closed_by_server(sock, within_s=5)


def test_a_post_body_sent_after_a_pause_on_a_kept_alive_connection_is_read(
    served: ServedService,
) -> None:
    """The idle wait reads the next request's first bytes itself: they go back to the parser."""
    with _connect(served) as sock:
        sock.sendall(_discovery())
        buffered = bytearray()
        assert _read_response(sock, buffered)[0] == 200
        time.sleep(0.3)
        body = b'{"hook": "order-sign"'  # cut short: the service answers 400, not silence
        sock.sendall(b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.2)
        sock.sendall(
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        status, _, answer = _read_response(sock, buffered)
        assert status == 400
        assert json.loads(answer)["resourceType"] == "OperationOutcome"


def _post(path: str, body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


def test_a_body_the_service_does_not_read_is_not_read_as_the_next_request(
    served: ServedService,
) -> None:
    """A hook call to an unknown service is answered 404 without reading its body; that body
    (here shaped like a request of its own) is skipped, not served, before the next request
    on the connection (a plain head, read by the worker itself: request_head.py)."""
    hidden = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    first = _post("/cds-services/no-such-service", hidden)
    second = _post("/cds-services/rheum-order-sign", b"{", b"Connection: close\r\n")
    with _connect(served) as sock:
        sock.sendall(first + second)
        buffered = bytearray()
        assert _read_response(sock, buffered)[0] == 404
        status, _, answer = _read_response(sock, buffered)  # the second request
        assert status == 400
        assert json.loads(answer)["resourceType"] == "OperationOutcome"
        assert _closed_by_server(sock, within_s=5)


def test_plain_and_other_heads_on_one_connection_are_answered_in_order(
    served: ServedService,
) -> None:
    plain = _post("/cds-services/rheum-order-sign", b"{")
    chunked = (
        b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n0\r\n\r\n"
    )
    last = _post("/cds-services/no-such-service", b"{}", b"Connection: close\r\n")
    with _connect(served) as sock:
        sock.sendall(plain + chunked + plain + last)
        buffered = bytearray()
        assert [_read_response(sock, buffered)[0] for _ in range(4)] == [400, 400, 400, 404]


def test_smuggling_shapes_get_gunicorns_refusal(served: ServedService) -> None:
    both = (
        b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    twice = (
        b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: 1\r\nContent-Length: 40\r\n\r\n{"
    )
    for head in (both, twice):
        with _connect(served) as sock:
            sock.sendall(head)
            assert _read_response(sock, bytearray())[0] == 400


def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_time(
    served: ServedService,
) -> None:
    with _connect(served) as sock:
        sock.sendall(_discovery())
        assert _read_response(sock, bytearray())[0] == 200
        started = time.monotonic()
        assert _closed_by_server(sock, within_s=KEEPALIVE_S + 5)
        assert time.monotonic() - started >= KEEPALIVE_S - 1


def test_a_request_head_trickled_past_the_keepalive_time_is_dropped(
    served: ServedService,
) -> None:
    """A slowloris client: the line and headers must arrive within the keep-alive time."""
    with _connect(served) as sock:
        started = time.monotonic()
        head = b"GET /cds-services HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
        closed = False
        for i in range(len(head)):
            try:
                sock.sendall(head[i : i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if _closed_by_server(sock, within_s=0.5):
                closed = True
                break
            if time.monotonic() - started > KEEPALIVE_S + 5:
                break
        assert closed, "a request head trickled for longer than the keep-alive time was served"
        assert time.monotonic() - started >= KEEPALIVE_S - 1


def test_an_over_long_request_line_is_refused(served: ServedService) -> None:
    with _connect(served) as sock:
        sock.sendall(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        # gunicorn's limit (8190): 414 from gunicorn 24 on, 400 before
        assert _read_response(sock, bytearray())[0] in (400, 414)


@pytest.mark.parametrize("path", [Path("deploy/gunicorn.conf.py")])
def test_the_container_config_runs_the_same_worker(path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    namespace: dict[str, object] = {"__file__": str(root / path)}
    exec(compile((root / path).read_text(), str(path), "exec"), namespace)  # noqa: S102
    assert namespace["worker_class"] == "cds_service.gevent_worker.GeventWorker"


def test_the_lean_loop_sees_what_gunicorns_parser_reads_ahead() -> None:
    """The installed gunicorn keeps read-ahead where the lean loop looks: a gunicorn upgrade
    that moves it fails here (and the worker then runs gunicorn's own loop)."""
    from gunicorn import http
    from gunicorn.config import Config

    from cds_service.gevent_worker import read_ahead, read_ahead_is_visible

    assert read_ahead_is_visible(Config())
    parser = http.get_parser(Config(), [b""], ("127.0.0.1", 0))
    parser.unreader.unread(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET")
    request = next(parser)
    assert request.path == "/healthz"
    assert read_ahead(parser.unreader) == 3  # the start of the pipelined next request


def test_gunicorns_loop_is_kept_when_its_parser_buffers_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gunicorn.config import Config
    from gunicorn.http import parser as gunicorn_parser

    from cds_service.gevent_worker import read_ahead, read_ahead_is_visible

    class ListUnreader:  # a gunicorn whose parser keeps its read-ahead in a list
        def __init__(self, source: object) -> None:
            self.held: list[bytes] = []

        def unread(self, data: bytes) -> None:
            self.held.insert(0, data)

        def read(self, size: int | None = None) -> bytes:
            data = b"".join(self.held)
            self.held = [data[size:]] if size is not None else []
            return data[:size] if size is not None else data

    monkeypatch.setattr(gunicorn_parser, "IterUnreader", ListUnreader)
    assert read_ahead(ListUnreader(None)) is None
    assert not read_ahead_is_visible(Config())
