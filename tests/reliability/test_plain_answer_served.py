"""The default worker serves a request whose head it read itself through `serve_plain`
(plain_answer.py: a leaner environ and answer); every other head through gunicorn's
`handle_request`. The same request bytes, sent so that either path serves them (the head whole
in one send, or split over two so that gunicorn's parser reads it), must get the same answer
bytes (Date aside) and the same environ, in every shape a WSGI answer can take: plain, without
a Content-Length, 204, with hop-by-hop fields, a field gunicorn refuses, an error before and
after the answer began, a file wrapper, `exc_info`. A real gunicorn with the worker and a
WSGI app (tests/fixtures/answer_shapes.py); raw sockets on loopback."""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.processes import ManagedProcess, free_port, log_tail, wait_until

ROOT = Path(__file__).resolve().parents[2]
PATHS = [
    "/plain",
    "/no-length",
    "/204",
    "/error-status",
    "/hop",
    "/two-pieces",
    "/past-length",
    "/refused-field",
    "/raise-before",
    "/raise-after",
    "/file",
    "/exc-info",
    "/missing",
]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("answer-shapes")


@pytest.fixture(scope="module")
def port(work: Path) -> Iterator[int]:
    chosen = free_port()
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{chosen}",
        "--worker-class",
        "cds_service.gevent_worker.GeventWorker",
        "--workers",
        "1",
        "--keep-alive",
        "5",
        "--access-logfile",
        str(work / "access.log"),
        "tests.fixtures.answer_shapes:app",
    ]
    proc = ManagedProcess(argv, work / "gunicorn.log", cwd=ROOT)

    def up() -> bool:
        try:
            socket.create_connection(("127.0.0.1", chosen), timeout=1).close()
            return True
        except OSError:
            return False

    try:
        if not wait_until(up, 60):
            pytest.fail(f"gunicorn did not start:\n{log_tail(proc.log_path)}")
        yield chosen
    finally:
        proc.stop()


def _exchange(port: int, request: bytes, split: bool) -> bytes:
    """All the server sends for `request` on a fresh connection, until it closes it (which
    it must do well before the keep-alive time: the request asked it to)."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        if split:
            sock.sendall(request[:12])  # the head is not whole in the first read
            time.sleep(0.05)
            sock.sendall(request[12:])
        else:
            sock.sendall(request)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return re.sub(rb"Date: [^\r]*", b"Date: -", received)


def _post(path: str, body: bytes = b'{"hook": "order-sign"}', extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{extra}Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def test_plain_heads_are_served_by_the_plain_path_and_others_by_gunicorns(port: int) -> None:
    assert _exchange(port, _post("/served-by"), split=False).endswith(b"\r\n\r\nPlainResponse")
    assert _exchange(port, _post("/served-by"), split=True).endswith(b"\r\n\r\nResponse")


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_shape_is_the_same_on_both_paths(port: int, path: str) -> None:
    plain = _exchange(port, _post(path), split=False)
    gunicorns = _exchange(port, _post(path), split=True)
    assert plain == gunicorns
    assert plain.startswith(b"HTTP/1.1 ") or path == "/raise-after"


def test_the_environ_is_the_same_on_both_paths(port: int) -> None:
    request = _post("/environ?a=1&b=%20", extra="Accept: a\r\nAccept: b\r\nX-Request-ID: r1\r\n")
    plain = _exchange(port, request, split=False).partition(b"\r\n\r\n")[2]
    gunicorns = _exchange(port, request, split=True).partition(b"\r\n\r\n")[2]
    ours, theirs = json.loads(plain), json.loads(gunicorns)
    assert ours.pop("REMOTE_PORT") != theirs.pop("REMOTE_PORT")  # two connections
    assert ours == theirs
    assert ours["HTTP_ACCEPT"] == "a,b" and ours["QUERY_STRING"] == "a=1&b=%20"


def test_kept_alive_plain_calls_are_answered_one_after_another(port: int) -> None:
    request = _post("/plain").replace(b"Connection: close", b"Connection: keep-alive")
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(request + request + _post("/plain"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert received.count(b"Connection: keep-alive\r\n") == 2
    assert received.count(b"Connection: close\r\n") == 1


def test_the_access_log_has_a_line_for_each_path(port: int, work: Path) -> None:
    path = f"/plain?call={time.monotonic_ns()}"
    first = _exchange(port, _post(path), split=False)
    second = _exchange(port, _post(path), split=True)
    assert first == second
    size = len(first.partition(b"\r\n\r\n")[2])
    line = f'"POST {path} HTTP/1.1" 200 {size} "-" "-"'

    def logged_twice() -> bool:
        return (work / "access.log").read_text().count(line) == 2

    assert wait_until(logged_twice, 10, 0.05), (work / "access.log").read_text()[-2000:]
