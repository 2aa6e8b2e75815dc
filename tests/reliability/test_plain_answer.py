"""The default worker serves a hook call that `request_head.common_head` read with a leaner
environ and answer (cds_service/plain_answer.py). Whatever it builds or sends must be what
gunicorn builds or sends: the same environ as `wsgi.create`, the same bytes on the wire as
gunicorn's `Response` (Date aside), the same refusals of a bad status or field, and the plain
hook answer in one write. Real sockets, gunicorn's own objects as the reference; the only
stand-in is a socket wrapper that counts writes. Generated answers and heads (hypothesis)."""

from __future__ import annotations

import io
import re
import socket
from typing import Any

import pytest
from gunicorn import http
from gunicorn.config import Config
from gunicorn.http import wsgi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.commands import serve
from cds_service.plain_answer import PlainEnviron, PlainResponse
from cds_service.request_head import Limits, common_head
from tests.fixtures.sockets import CountingSocket

LISTENER = ("127.0.0.1", 8080)
PEER = ("127.0.0.1", 50123)
BODY = b'{"cards": [{"summary": "x"}]}' * 200


def _request(method: str = "POST", version: str = "1.1", connection: str | None = None) -> bytes:
    lines = [f"{method} /cds-services/x HTTP/{version}", "Host: a"]
    if connection is not None:
        lines.append(f"Connection: {connection}")
    if method == "POST":
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _answer(
    response_class: type,
    request: bytes,
    status: Any,
    headers: Any,
    pieces: list[Any],
) -> tuple[Any, ...]:
    """What the client receives for one answer, the error raised (if any), the response's
    state after it, and the sizes of the writes."""
    cfg = Config()
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        client_side.sendall(request)
        req = next(http.RequestParser(cfg, server_side, PEER))
        counting = CountingSocket(server_side)
        resp = response_class(req, counting, cfg)
        error = None
        try:
            resp.start_response(status, headers)
            for piece in pieces:
                resp.write(piece)
            resp.close()
        except Exception as exc:  # noqa: BLE001 - the refusal is part of what is compared
            error = (type(exc), str(exc))
        server_side.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := client_side.recv(65536):
            received += chunk
    state = (
        resp.status,
        getattr(resp, "status_code", None),
        list(resp.headers),
        resp.response_length,
        resp.sent,
        resp.chunked,
        resp.headers_sent,
        resp.should_close() if resp.status is not None else None,
    )
    return re.sub(rb"Date: [^\r]*", b"Date: -", received), error, state, counting.writes


def _same_as_gunicorn(request: bytes, status: Any, headers: Any, pieces: list[Any]) -> list[int]:
    ours = _answer(PlainResponse, request, status, headers, pieces)
    theirs = _answer(wsgi.Response, request, status, headers, pieces)
    assert ours[:3] == theirs[:3], (status, headers)
    return ours[3]


JSON_LENGTH = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def test_the_hook_answer_leaves_in_one_write_with_gunicorns_bytes() -> None:
    writes = _same_as_gunicorn(_request(), "200 OK", JSON_LENGTH, [BODY])
    assert len(writes) == 1 and writes[0] > len(BODY)
    theirs = _answer(wsgi.Response, _request(), "200 OK", JSON_LENGTH, [BODY])
    assert len(theirs[3]) in (1, 2)  # gunicorn's own, with or without serve's one-write patch


@pytest.mark.parametrize(
    ("request_", "status", "headers", "pieces"),
    [
        (_request(), "201 Created", JSON_LENGTH, [BODY]),
        (_request(), "400 Bad Request", JSON_LENGTH, [BODY]),
        (_request(), "503 Service Unavailable", [*JSON_LENGTH, ("Retry-After", "5")], [BODY]),
        (_request(), "200", JSON_LENGTH, [BODY]),
        (_request(version="1.0"), "200 OK", JSON_LENGTH, [BODY]),
        (_request(connection="close"), "200 OK", JSON_LENGTH, [BODY]),
        (_request(version="1.0", connection="keep-alive"), "200 OK", JSON_LENGTH, [BODY]),
        (_request(), "200 OK", JSON_LENGTH, [BODY[:100], BODY[100:]]),
        (_request(), "200 OK", JSON_LENGTH, [BODY + b"tail"]),
        (_request(), "200 OK", [("Content-Length", "0")], [b""]),
        (_request(), "200 OK", [("Content-Length", "0")], []),
        (_request(), "200 OK", [("Content-Type", "application/json")], [BODY]),  # chunked
        (_request(version="1.0"), "200 OK", [("Content-Type", "text/plain")], [BODY]),
        (_request(), "204 No Content", [], []),
        (_request(), "204 No Content", [("Content-Length", "0")], [b""]),
        (_request(), "304 Not Modified", JSON_LENGTH, [BODY]),
        (_request(), "103 Early Hints", [("Link", "</a>; rel=preload")], []),
        (_request("HEAD"), "200 OK", JSON_LENGTH, [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("Connection", "close")], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("Server", "x"), ("Date", "y")], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("Transfer-Encoding", "chunked")], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("Upgrade", "websocket")], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("Content-Length", "3")], [BODY]),
        (_request(), "200 OK", [("Content-Length", " 12\t"), ("X-A", "\t a b ")], [b"x" * 12]),
        (_request(), "200 OK", [*JSON_LENGTH, ("X-A", " padded\t"), ("X-B", "\t")], [BODY]),
        (_request(), "200 OK", [("Content-Length", "+12")], [b"x" * 12]),
        (_request(), "200 OK", [("Content-Length", "1_2")], [b"x" * 12]),
        (_request(), "200 OK", [("Content-Length", "\u0661\u0662")], [b"x" * 12]),
        (_request(), "200 OK", [("Content-Length", "twelve")], [b"x" * 12]),
        (_request(), "200 OK", [*JSON_LENGTH, ("X-Bad", "a\r\nInjected: 1")], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("X Bad", "a")], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("X-Caf\xe9", "a")], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("X-A", "caf\xe9")], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, ("X-A", 5)], [BODY]),
        (_request(), "200 OK", [*JSON_LENGTH, (b"X-A", "5")], [BODY]),
        (_request(), "200 OK\r\nX-Injected: 1", JSON_LENGTH, [BODY]),
        (_request(), "20 OK", JSON_LENGTH, [BODY]),
        (_request(), "200OK", JSON_LENGTH, [BODY]),
        (_request(), b"200 OK", JSON_LENGTH, [BODY]),
        (_request(), "200 OK", JSON_LENGTH, ["not bytes"]),
        (_request(), "200 OK", JSON_LENGTH, [bytearray(BODY)]),
    ],
)
def test_every_answer_is_gunicorns(
    request_: bytes, status: Any, headers: Any, pieces: list[Any]
) -> None:
    _same_as_gunicorn(request_, status, headers, pieces)


def test_a_second_start_response_is_refused_as_gunicorn_refuses_it() -> None:
    for response_class in (PlainResponse, wsgi.Response):
        server_side, client_side = socket.socketpair()
        with server_side, client_side:
            client_side.sendall(_request())
            req = next(http.RequestParser(Config(), server_side, PEER))
            resp = response_class(req, server_side, Config())
            resp.start_response("200 OK", JSON_LENGTH)
            with pytest.raises(AssertionError, match="already set"):
                resp.start_response("200 OK", JSON_LENGTH)
            # with exc_info before the head is sent, the answer may be replaced
            resp.start_response("500 Internal Server Error", [("Content-Length", "0")], (1, 2, 3))
            assert resp.status == "500 Internal Server Error" and resp.response_length == 0


_NAMES = st.sampled_from(
    [
        "Content-Type",
        "Content-Length",
        "content-length",
        "X-Request-Id",
        "Cache-Control",
        "Retry-After",
        "Connection",
        "Keep-Alive",
        "Server",
        "Date",
        "TE",
        "Trailers",
        "Upgrade",
        "Proxy-Authenticate",
        "Bad Name",
        "X:y",
        "",
    ]
)
_VALUES = st.one_of(
    st.sampled_from(["application/json", "close", "websocket", "upgrade", "0", "12", "+1", "1_0"]),
    st.text(st.characters(min_codepoint=0x09, max_codepoint=0xFF), max_size=12),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["POST"] * 4 + ["HEAD"]),
    version=st.sampled_from(["1.1", "1.0"]),
    connection=st.sampled_from([None, "close", "keep-alive"]),
    status=st.one_of(
        st.sampled_from(
            ["200 OK", "201 Created", "204 No Content", "304 Not Modified", "101 Switching"]
        ),
        st.sampled_from(["400 Bad Request", "500 Server Error", "199 x", "299", "600 Odd"]),
        st.from_regex(r"[0-9]{2,4}( [ -~\t]{0,8})?", fullmatch=True),
    ),
    headers=st.lists(st.tuples(_NAMES, _VALUES), max_size=6),
    declared=st.sampled_from([None, "exact", "short", "long"]),
    cut=st.integers(0, 40),
)
def test_generated_answers_are_gunicorns(
    method: str,
    version: str,
    connection: str | None,
    status: str,
    headers: list[tuple[str, str]],
    declared: str | None,
    cut: int,
) -> None:
    body = BODY[:40]
    if declared is not None:
        length = {"exact": 40, "short": 30, "long": 50}[declared]
        headers = [*headers, ("Content-Length", str(length))]
    pieces = [body[:cut], body[cut:]] if cut else [body]
    _same_as_gunicorn(_request(method, version, connection), status, headers, pieces)


def test_serves_one_write_patch_uses_the_same_head() -> None:
    """serve.headers_with_body (gunicorn's own Response, one write) and PlainResponse build the
    head the same way: the client cannot tell which answered."""
    patched = type("Patched", (wsgi.Response,), {})
    patched.write = serve.headers_with_body(patched)  # type: ignore[method-assign]
    ours = _answer(PlainResponse, _request(), "200 OK", JSON_LENGTH, [BODY])
    theirs = _answer(patched, _request(), "200 OK", JSON_LENGTH, [BODY])
    assert ours[:3] == theirs[:3] and ours[3] == theirs[3] == [sum(ours[3])]


# environ ------------------------------------------------------------------------------------

OBJECTS = ("wsgi.input", "gunicorn.socket", "wsgi.errors", "wsgi.early_hints")


def _environs(head: bytes, cfg: Config | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    cfg = cfg or Config()
    req = common_head(head, Limits(cfg))
    assert req is not None, head
    req.body = io.BytesIO(b"")
    req.proxy_protocol_info = {}
    _, theirs = wsgi.create(req, None, PEER, LISTENER, cfg)
    theirs["wsgi.multithread"] = True  # as the async workers' handle_request sets it
    ours = PlainEnviron(cfg, LISTENER).build(req, None, PEER, None)
    for env in (ours, theirs):
        for key in OBJECTS:
            assert key in env
            env[key] = type(env[key])
    return ours, theirs


def test_a_hook_calls_environ_is_wsgi_creates() -> None:
    ours, theirs = _environs(
        b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        b"Content-Type: application/json\r\nContent-Length: 241000"
    )
    assert ours == theirs
    assert ours["PATH_INFO"] == "/cds-services/rheum-order-sign"
    assert ours["CONTENT_LENGTH"] == "241000" and ours["HTTP_HOST"] == "127.0.0.1:8080"


_SEGMENT = st.text(st.sampled_from("abcXYZ09-._~!$&'()*+,;=:@"), max_size=8)
_ESCAPE = st.sampled_from(["%20", "%2F", "%e9", "%C3%A9", "%25", "%", "%zz", "%4"])
_PATH = st.lists(st.one_of(_SEGMENT, _ESCAPE), min_size=1, max_size=5).map(
    lambda parts: "/" + "".join(parts)
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=_PATH,
    query=st.one_of(st.none(), st.text(st.sampled_from("a=1&b%20/?:@"), max_size=12)),
    version=st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
    fields=st.lists(
        st.tuples(
            st.sampled_from(
                ["Accept", "X-Request-ID", "Authorization", "Host", "Content-Type", "Cookie", "A"]
            ),
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20),
        ),
        max_size=8,
    ),
)
def test_generated_hook_environs_are_wsgi_creates(
    path: str, query: str | None, version: str, fields: list[tuple[str, str]]
) -> None:
    seen: set[str] = set()
    lines = [f"POST {path}{'' if query is None else '?' + query} {version}"]
    for name, value in fields:
        if name in ("Host", "Content-Type") and name in seen:
            continue  # at most one of those in a plain head
        seen.add(name)
        lines.append(f"{name}: {value}")
    lines.append("Content-Length: 7")
    ours, theirs = _environs("\r\n".join(lines).encode("ascii"))
    assert ours == theirs


def test_requests_it_does_not_cover_get_wsgi_create(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PlainEnviron.covers(LISTENER, PEER)
    assert not PlainEnviron.covers("unix:/run/x.sock", PEER)
    assert not PlainEnviron.covers(LISTENER, "")
    monkeypatch.setenv("SCRIPT_NAME", "/cds")
    assert not PlainEnviron.covers(LISTENER, PEER)


def _sample() -> Any:
    cfg = Config()
    req = common_head(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0", Limits(cfg))
    assert req is not None
    req.body = io.BytesIO(b"")
    req.proxy_protocol_info = {}
    return cfg, req


def test_the_worker_start_check_agrees_with_this_gunicorn() -> None:
    cfg, req = _sample()
    assert PlainEnviron(cfg, LISTENER).matches_gunicorn(req, None, PEER, LISTENER, cfg)


def test_a_gunicorn_that_builds_another_environ_is_detected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A gunicorn whose `wsgi.create` adds a key (or sets one otherwise) fails the start
    check, so the worker keeps `wsgi.create` (gevent_worker.GeventWorker.plain_environ)."""
    cfg, req = _sample()
    monkeypatch.setattr(wsgi, "proxy_environ", lambda req: {"X_NEW": "1"})
    assert not PlainEnviron(cfg, LISTENER).matches_gunicorn(req, None, PEER, LISTENER, cfg)
    monkeypatch.setattr(wsgi, "proxy_environ", lambda req: {"SERVER_PORT": "80"})
    assert not PlainEnviron(cfg, LISTENER).matches_gunicorn(req, None, PEER, LISTENER, cfg)
