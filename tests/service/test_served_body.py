"""The hook body as `rheum-cds serve` reads it (gunicorn, default workers): with a
Content-Length (read in one piece), chunked, cut short by the client, and over the size limit.
Every case is answered as a CDS client would expect, and the worker keeps serving."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fixtures.service import ServedService, start_service
from tests.service import samples

HOOK = "/cds-services/rheum-order-sign"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedService]:
    work: Path = tmp_path_factory.mktemp("served-body")
    service = start_service(work, f"sqlite:///{work / 'cds.db'}", workers=1)
    try:
        yield service
    finally:
        service.stop()


def _body() -> bytes:
    return json.dumps(samples.order_sign(prefetch=samples.full_prefetch())).encode()


def _raw_call(served: ServedService, head: bytes, body: bytes) -> bytes:
    host, port = served.base_url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)  # the client stops sending
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_body_with_content_length_and_a_chunked_body_get_the_same_cards(
    served: ServedService,
) -> None:
    body = _body()
    plain = requests.post(
        served.base_url + HOOK,
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=20,
    )
    chunked = requests.post(
        served.base_url + HOOK,
        data=(body[i : i + 1000] for i in range(0, len(body), 1000)),  # no Content-Length
        headers={"Content-Type": "application/json"},
        timeout=20,
    )
    assert plain.status_code == chunked.status_code == 200
    titles = [c["summary"] for c in plain.json()["cards"]]
    assert titles and titles == [c["summary"] for c in chunked.json()["cards"]]


def test_a_body_cut_short_is_a_400_and_the_worker_serves_on(served: ServedService) -> None:
    body = _body()
    head = (
        f"POST {HOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) + 500}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = _raw_call(served, head, body[: len(body) // 2])
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b'"resourceType":"OperationOutcome"' in answer.replace(b" ", b"")
    again = requests.post(served.base_url + HOOK, data=body, timeout=20)
    assert again.status_code == 200 and again.json()["cards"]


def test_a_declared_length_over_the_limit_is_a_413_without_reading_it(
    served: ServedService,
) -> None:
    head = (
        f"POST {HOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = _raw_call(served, head, b"{")
    assert answer.split(b"\r\n", 1)[0].startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"OperationOutcome" in answer


def _read_answer(sock: socket.socket, buffered: bytearray) -> tuple[bytes, bytes]:
    """One HTTP/1.1 answer with a Content-Length body: (status line, body)."""
    while b"\r\n\r\n" not in buffered:
        data = sock.recv(65536)
        assert data, "the connection closed before an answer"
        buffered += data
    head, _, rest = bytes(buffered).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        int(ln.split(b":", 1)[1]) for ln in lines if ln.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        data = sock.recv(65536)
        assert data, "the connection closed within an answer"
        rest += data
    buffered[:] = rest[length:]
    return lines[0], rest[:length]


def test_a_large_body_and_the_request_behind_it_on_one_connection_are_both_answered(
    served: ServedService,
) -> None:
    """A 1 MB hook body read whole, then the next request on the kept-alive connection
    (sent in the same stream) parsed from where the body ends."""
    body = _body() + b" " * 1_000_000  # JSON may end in whitespace
    head = (
        f"POST {HOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    follow = b"GET /cds-services HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    host, port = served.base_url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head + body + follow)
        buffered = bytearray()
        status, answer = _read_answer(sock, buffered)
        assert status.startswith(b"HTTP/1.1 200"), answer[:300]
        assert json.loads(answer)["cards"]
        status, answer = _read_answer(sock, buffered)
        assert status.startswith(b"HTTP/1.1 200"), answer[:300]
        assert json.loads(answer)["services"]
