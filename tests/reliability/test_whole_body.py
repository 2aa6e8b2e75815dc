"""The default worker's read of a request body with a Content-Length (gevent_worker.WholeBody):
the body exactly, however it arrives; a body cut short read short; the next request on the
connection parsed from where the body ends; memory growing with what the client sent, not
with what it declared; any other body, or a gunicorn that builds it otherwise, read by
gunicorn; a connection taking a large body into the kernel before it is read. gunicorn's own
parser over a socket pair, no server."""

from __future__ import annotations

import io
import socket
import threading
import tracemalloc
from collections.abc import Iterator

import pytest
from gunicorn.config import Config
from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import RequestParser

from cds_service.gevent_worker import RECEIVE_BUFFER, WholeBody, whole_body, widen_receive_buffer

BODY = bytes(range(256)) * 4000  # 1 MB: more than one read of the socket, every byte value


def _head(length: int, path: str = "/cds-services/rheum-order-sign") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


NEXT = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    server.settimeout(20)
    client.settimeout(20)
    try:
        yield server, client
    finally:
        server.close()
        client.close()


def _send(sock: socket.socket, *parts: bytes, close: bool = False) -> threading.Thread:
    """Send the parts one after another from a thread (each may block until read)."""

    def run() -> None:
        for part in parts:
            sock.sendall(part)
        if close:
            sock.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _request(server: socket.socket) -> tuple[RequestParser, object]:
    parser = RequestParser(Config(), server, ("127.0.0.1", 0))
    req = next(parser)
    whole_body(req, parser.unreader, server)
    return parser, req


def test_a_body_is_read_whole_and_the_next_request_on_the_connection_follows(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    sender = _send(client, _head(len(BODY)) + BODY[:5000], BODY[5000:] + NEXT)
    parser, req = _request(server)
    assert isinstance(req.body, WholeBody)
    assert req.body.read(len(BODY)) == BODY
    assert req.body.read(10) == b""
    follow = next(parser)
    assert (follow.method, follow.path) == ("GET", "/healthz")
    sender.join()


def test_a_small_body_and_the_pipelined_request_behind_it_arrive_in_one_piece(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    body = b'{"hook": "order-sign"}'
    client.sendall(_head(len(body)) + body + NEXT)
    parser, req = _request(server)
    assert req.body.read(len(body)) == body
    assert next(parser).path == "/healthz"


def test_a_body_read_in_parts_and_then_whole_is_the_same_body(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    sender = _send(client, _head(len(BODY)) + BODY + NEXT)
    parser, req = _request(server)
    first = req.body.read(1000)
    line = req.body.readline(100)
    rest = req.body.read(len(BODY))
    assert first + line + rest == BODY
    assert next(parser).path == "/healthz"
    sender.join()


def test_a_body_cut_short_is_read_short_and_the_connection_ends(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    sender = _send(client, _head(len(BODY) + 500), BODY, close=True)
    parser, req = _request(server)
    assert req.body.read(len(BODY) + 500) == BODY
    with pytest.raises((NoMoreData, StopIteration)):
        next(parser)  # no second request: the client closed
    sender.join()


def test_a_large_declared_body_is_not_allocated_before_it_arrives(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """A client that declares 50 MB and sends 10 KB costs what it sent (and one socket read),
    not what it declared: slow clients cannot pin memory by promising a large body."""
    server, client = pair
    client.sendall(_head(50 * 1024 * 1024) + b"{" * 10_000)
    client.shutdown(socket.SHUT_WR)
    tracemalloc.start()
    try:
        _, req = _request(server)
        data = req.body.read(50 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data == b"{" * 10_000
    assert peak < 2 * 1024 * 1024


class _ResetSocket:
    """A peer that resets the connection after the request head (ECONNRESET on recv)."""

    def __init__(self, head: bytes) -> None:
        self.pending = [head]

    def recv(self, size: int) -> bytes:
        if self.pending:
            return self.pending.pop()
        raise ConnectionResetError(104, "Connection reset by peer")


def test_a_connection_reset_while_reading_the_body_ends_the_connection() -> None:
    sock = _ResetSocket(_head(len(BODY)) + BODY[:100])
    parser = RequestParser(Config(), sock, ("127.0.0.1", 0))
    req = next(parser)
    whole_body(req, parser.unreader, sock)
    assert isinstance(req.body, WholeBody)
    with pytest.raises(ConnectionResetError):
        req.body.read(len(BODY))
    assert req.body.failed  # what gunicorn 27's parser and the worker's idle wait check
    # where the next request would start is unknown: the connection is not reused (gunicorn
    # 27 stops at the failed body; 22, which keeps no such mark, meets the reset again)
    with pytest.raises((StopIteration, ConnectionResetError)):
        next(parser)


def test_a_chunked_body_stays_gunicorns(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    client.sendall(
        b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + NEXT
    )
    parser, req = _request(server)
    assert not isinstance(req.body, WholeBody)
    assert req.body.read() == b"hello"
    assert next(parser).path == "/healthz"


def test_a_gunicorn_that_buffers_elsewhere_keeps_its_own_body(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """The shape is checked per request: a parser whose read-ahead is not where gunicorn 22
    to 27 keep it reads the body its own way, and reads it right."""
    server, client = pair
    body = b'{"hook": "order-sign"}'
    client.sendall(_head(len(body)) + body)
    parser = RequestParser(Config(), server, ("127.0.0.1", 0))
    req = next(parser)

    class ElsewhereBuffer(io.BytesIO):  # another type than the one the worker knows
        pass

    held = parser.unreader.buf.getvalue()
    parser.unreader.buf = ElsewhereBuffer()
    parser.unreader.buf.write(held)
    whole_body(req, parser.unreader, server)
    assert not isinstance(req.body, WholeBody)
    assert req.body.read(len(body)) == body


def _rmem_max() -> int:
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            return int(f.read())
    except OSError:
        return RECEIVE_BUFFER


def test_connections_accept_a_large_body_into_the_kernel_before_it_is_read() -> None:
    """A connection the worker's listener accepts takes ~2 MB of body (or the system's
    maximum) before the worker reads, instead of the kernel's 128 KB start."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        widen_receive_buffer(listener)
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            with accepted:
                size = accepted.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
                assert size >= 2 * min(RECEIVE_BUFFER, _rmem_max())
                assert client  # the client end is untouched


def test_a_listener_with_a_larger_buffer_or_not_tcp_is_left_as_it_is() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 3 * RECEIVE_BUFFER)
        before = listener.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        widen_receive_buffer(listener)
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == before
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
        before = unix.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        widen_receive_buffer(unix)
        assert unix.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == before
    widen_receive_buffer(object())  # not a socket: nothing happens
