"""gunicorn as `rheum-cds serve` runs it sends an answer's headers and its body in one write
(serve.headers_with_body): the client gets the same bytes, woken once instead of twice. Real
gunicorn requests parsed from a socket; the only stand-in is a socket wrapper that counts the
writes."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.http import RequestParser, wsgi

from cds_service.commands import serve
from tests.fixtures.sockets import CountingSocket

BODY = b'{"cards": []}' * 400  # 5.2 kB, one piece, like a hook answer


def _answer(
    write: Callable[[Any, bytes], None],
    request: bytes,
    status: str,
    headers: list[tuple[str, str]],
    pieces: list[bytes],
) -> tuple[bytes, list[int]]:
    """What the client receives, and the sizes of the server's writes, for one response."""
    cfg = Config()
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        client_side.sendall(request)
        req = next(RequestParser(cfg, server_side, ("127.0.0.1", 40000)))
        counting = CountingSocket(server_side)
        resp, _environ = wsgi.create(req, counting, ("127.0.0.1", 40000), ("127.0.0.1", 8080), cfg)
        resp.start_response(status, headers)
        original = wsgi.Response.write
        wsgi.Response.write = write
        try:
            for piece in pieces:
                resp.write(piece)
            resp.close()
        finally:
            wsgi.Response.write = original
        server_side.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := client_side.recv(65536):
            received += chunk
    return re.sub(rb"Date: [^\r]*", b"Date: -", received), counting.writes


POST = b"POST /cds-services/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
HEAD = b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"
JSON = [("Content-Type", "application/json")]
CASES = {
    "hook answer: one piece of the declared length": (
        POST,
        "200 OK",
        [*JSON, ("Content-Length", str(len(BODY)))],
        [BODY],
    ),
    "declared length in two pieces": (
        POST,
        "200 OK",
        [*JSON, ("Content-Length", str(len(BODY)))],
        [BODY[:100], BODY[100:]],
    ),
    "a piece past the declared length": (POST, "200 OK", [*JSON, ("Content-Length", "10")], [BODY]),
    "no Content-Length: chunked": (POST, "200 OK", JSON, [BODY]),
    "HEAD: the body is omitted": (
        HEAD,
        "200 OK",
        [*JSON, ("Content-Length", str(len(BODY)))],
        [BODY],
    ),
    "204: no body": (POST, "204 NO CONTENT", [], []),
    "empty body": (POST, "200 OK", [*JSON, ("Content-Length", "0")], [b""]),
}


@pytest.mark.parametrize("case", CASES)
def test_the_client_receives_what_gunicorn_would_send(case: str) -> None:
    request, status, headers, pieces = CASES[case]
    expected, _ = _answer(wsgi.Response.write, request, status, headers, pieces)
    got, _ = _answer(serve.headers_with_body(wsgi.Response), request, status, headers, pieces)
    assert got == expected


def test_a_hook_answer_leaves_in_one_write_with_its_headers() -> None:
    request, status, headers, pieces = CASES["hook answer: one piece of the declared length"]
    _, gunicorns = _answer(wsgi.Response.write, request, status, headers, pieces)
    _, ours = _answer(serve.headers_with_body(wsgi.Response), request, status, headers, pieces)
    assert len(gunicorns) == 2  # what this changes: headers, then the body
    assert ours == [sum(gunicorns)]


def test_serve_installs_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn import util

    monkeypatch.setattr(wsgi.Response, "write", wsgi.Response.write)  # restored after the test
    monkeypatch.setattr(util, "http_date", util.http_date)
    original = wsgi.Response.write
    serve.tune_gunicorn()
    installed = wsgi.Response.write
    assert installed is not original and installed.headers_with_body  # type: ignore[attr-defined]
    serve.tune_gunicorn()
    assert wsgi.Response.write is installed
