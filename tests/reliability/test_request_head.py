"""The default worker reads a plain hook request head itself (cds_service/request_head.py) and
hands every other head to gunicorn's parser. Whatever it reads must be what gunicorn's parser
reads from the same bytes: the same WSGI environ, the same body length, the same keep-alive
decision; and every head gunicorn refuses, or decides by configuration or by peer, must go to
gunicorn. Compared on generated heads (hypothesis) and on the shapes request smuggling and
header tricks use (the same over a connection to `rheum-cds serve`: test_gevent_worker.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from gunicorn import http
from gunicorn.config import Config
from gunicorn.http import wsgi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.request_head import CommonHead, Limits, common_head

LISTENER = ("127.0.0.1", 8080)
PEER = ("127.0.0.1", 50123)
OBJECTS = ("wsgi.input", "gunicorn.socket", "wsgi.errors", "wsgi.early_hints")


def _cfg(**settings_: Any) -> Config:
    cfg = Config()
    for name, value in settings_.items():
        cfg.set(name, value)
    return cfg


def _gunicorn(cfg: Config, head: bytes, body: bytes) -> Any:
    """gunicorn's Request of head + blank line + body, or the exception its parser raises."""
    try:
        return next(http.get_parser(cfg, [head + b"\r\n\r\n" + body], PEER))
    except Exception as exc:  # noqa: BLE001 - the refusal is the result compared
        return exc


def _environ(req: Any, cfg: Config) -> dict[str, Any]:
    _, environ = wsgi.create(req, None, PEER, LISTENER, cfg)
    return {k: v for k, v in environ.items() if k not in OBJECTS}


def _same_as_gunicorn(head: bytes, cfg: Config | None = None) -> CommonHead | None:
    """common_head's reading of `head`, checked against gunicorn's when it reads one."""
    cfg = cfg or _cfg()
    ours = common_head(head, Limits(cfg))
    if ours is None:
        return None
    theirs = _gunicorn(cfg, head, b"")  # the body is read later; its length is in the head
    assert not isinstance(theirs, Exception), (head, theirs)
    assert theirs.body.reader.length == ours.content_length
    ours.body = io.BytesIO(b"")
    assert _environ(ours, cfg) == _environ(theirs, cfg)
    assert ours.should_close() == theirs.should_close()
    assert (ours.method, ours.uri, ours.path, ours.query, ours.version) == (
        theirs.method,
        theirs.uri,
        theirs.path,
        theirs.query,
        theirs.version,
    )
    return ours


PLAIN = (
    b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
    b"Accept-Encoding: identity\r\nContent-Length: 241000\r\nContent-Type: application/json"
)


def test_a_plain_hook_head_is_read_as_gunicorn_reads_it() -> None:
    got = _same_as_gunicorn(PLAIN)
    assert got is not None and got.content_length == 241000 and not got.should_close()


@pytest.mark.parametrize(
    "head",
    [
        # what the CDS Hooks sandbox and EHR clients send: bearer token, origin, keep-alive
        b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: cds.example.org\r\n"
        b"Authorization: Bearer eyJhbGciOiJSUzM4NCJ9.e30.c2ln\r\n"
        b"Origin: https://sandbox.cds-hooks.org\r\n"
        b"Content-Type: application/json; charset=utf-8\r\nConnection: keep-alive\r\n"
        b"Content-Length: 0",
        b"POST /cds-services/x?debug=1&a=%20b HTTP/1.0\r\nContent-Length: 12",
        b"POST /cds-services/x HTTP/1.1\r\nContent-Length: 5\r\nConnection: Close",
        b"POST /a%2Fb/%7E HTTP/1.1\r\nX-Request-ID:   abc  def \t\r\nContent-Length: 7",
        b"POST /x HTTP/1.1\r\nEmpty:\r\nContent-Length: 1",
        b"POST /x? HTTP/1.1\r\nContent-Length: 1\r\nX-A: 1\r\nX-A: 2",
    ],
)
def test_ordinary_heads_are_read_the_same_way(head: bytes) -> None:
    assert _same_as_gunicorn(head) is not None


@pytest.mark.parametrize(
    "head",
    [
        PLAIN.replace(b"POST", b"GET", 1),
        PLAIN.replace(b"POST", b"post", 1),
        PLAIN.replace(b"HTTP/1.1", b"HTTP/2.0", 1),
        PLAIN.replace(b" /cds", b" http://evil.example/cds", 1),
        PLAIN.replace(b" /cds", b" //evil.example/cds", 1),
        PLAIN.replace(b"order-sign", b"order-sign#frag", 1),
        PLAIN.replace(b"order-sign", "order-sígn".encode(), 1),
        b"\r\n" + PLAIN,  # an empty line before the request line
        # framing: the shapes request smuggling uses
        PLAIN + b"\r\nTransfer-Encoding: chunked",
        PLAIN.replace(b"Content-Length: 241000", b"Transfer-Encoding: chunked"),
        PLAIN + b"\r\nContent-Length: 241000",
        PLAIN.replace(b"241000", b"+241000"),
        PLAIN.replace(b"241000", b"241000, 241000"),
        PLAIN.replace(b"241000", b"0x10"),
        PLAIN.replace(b"241000", "２４".encode()),
        PLAIN.replace(b"Content-Length: 241000", b"Content-Length:"),
        PLAIN.replace(b"Content-Length: 241000", b"X-Other: 1"),  # no length
        PLAIN.replace(b"Content-Length: 241000", b"Content-Length : 241000"),
        PLAIN.replace(b"Content-Length: 241000", b"Content_Length: 241000"),
        PLAIN + b"\r\n folded continuation",
        PLAIN + b"\r\n\tfolded continuation",
        PLAIN.replace(b"\r\nHost", b"\nHost"),  # a bare LF
        PLAIN + b"\r\nX-Bad: a\rb",
        PLAIN + b"\r\nX-Bad: a\x00b",
        PLAIN + b"\r\nX-Bad: caf\xe9",
        # decided by gunicorn's policy, the peer or the configuration
        PLAIN + b"\r\nExpect: 100-continue",
        PLAIN + b"\r\nUpgrade: h2c",
        PLAIN + b"\r\nX-Forwarded-Proto: https",
        PLAIN + b"\r\nX-FORWARDED-SSL: on",
        PLAIN + b"\r\nX_Forwarded_For: 10.0.0.1",
        PLAIN + b"\r\nSCRIPT_NAME: /admin",
        PLAIN + b"\r\nHost: other.example",
        PLAIN + b"\r\nContent-Type: text/plain",
        PLAIN + b"\r\nConnection: close\r\nConnection: keep-alive",
        PLAIN + b"\r\nConnection: upgrade",
        b"",
    ],
)
def test_other_heads_go_to_gunicorns_parser(head: bytes) -> None:
    assert common_head(head, Limits(_cfg())) is None


def test_heads_at_gunicorns_limits_go_to_gunicorns_parser() -> None:
    cfg = _cfg(limit_request_line=100, limit_request_fields=5, limit_request_field_size=60)
    limits = Limits(cfg)
    short = b"POST /x HTTP/1.1\r\nContent-Length: 1"
    assert _same_as_gunicorn(short, cfg) is not None
    long_line = b"POST /" + b"a" * 100 + b" HTTP/1.1\r\nContent-Length: 1"
    assert common_head(long_line, limits) is None
    assert isinstance(_gunicorn(cfg, long_line, b"x"), http.errors.LimitRequestLine)
    many = short + b"".join(b"\r\nX-%d: 1" % i for i in range(5))
    assert common_head(many, limits) is None
    assert isinstance(_gunicorn(cfg, many, b"x"), http.errors.LimitRequestHeaders)
    wide = short + b"\r\nX-Wide: " + b"v" * 60
    assert common_head(wide, limits) is None
    assert isinstance(_gunicorn(cfg, wide, b"x"), http.errors.LimitRequestHeaders)
    # 0 is "no limit" to gunicorn: the largest limit it knows is kept here
    unlimited = Limits(_cfg(limit_request_line=0, limit_request_fields=0))
    assert unlimited.line == 8190 and unlimited.fields == 32768
    assert (
        common_head(b"POST /" + b"a" * 9000 + b" HTTP/1.1\r\nContent-Length: 1", unlimited) is None
    )


def test_configured_forwarded_scheme_fields_go_to_gunicorn() -> None:
    cfg = _cfg(secure_scheme_headers={"X-Origin-Scheme": "https"})
    assert common_head(PLAIN + b"\r\nX-Origin-Scheme: https", Limits(cfg)) is None
    assert _same_as_gunicorn(PLAIN + b"\r\nX-Forwarded-Proto: https", cfg) is not None


# mostly the plain shape, with the odd name, value, target or version mixed in, so that
# many generated heads are read here and compared, and the rest are handed on
_PLAIN_NAMES = [
    "Host",
    "Content-Type",
    "Accept",
    "X-Request-ID",
    "Authorization",
    "Origin",
    "Connection",
    "Accept-Encoding",
    "User-Agent",
    "X-A",
]
_ODD_NAMES = [
    "Transfer-Encoding",
    "Expect",
    "X-Forwarded-Proto",
    "X_Under",
    "Content-Length",
    "Bad Name",
    "Ünï",
    "Upgrade",
    "",
]
_TOKEN = st.one_of(
    st.sampled_from(_PLAIN_NAMES),
    st.sampled_from(_PLAIN_NAMES),
    st.sampled_from(_PLAIN_NAMES),
    st.sampled_from(_ODD_NAMES),
)
_PLAIN_VALUES = st.sampled_from(
    [
        "close",
        "keep-alive",
        "application/json",
        "",
        "a\tb",
        "1, 2",
        " 7 ",
        "Bearer e30.e30.c2ln",
        "*/*",
        "x" * 40,
    ]
)
_VALUE = st.one_of(
    _PLAIN_VALUES,
    _PLAIN_VALUES,
    _PLAIN_VALUES,
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
    st.text(st.characters(min_codepoint=0, max_codepoint=0xFF), max_size=12),
)
_PLAIN_TARGETS = st.sampled_from(
    ["/cds-services/rheum-order-sign", "/x?y=1", "/%2e%2e/a", "/?", "/a;b=c"]
)
_TARGET = st.one_of(
    _PLAIN_TARGETS,
    _PLAIN_TARGETS,
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20).map(
        lambda t: "/" + t
    ),
    st.sampled_from(["//x", "/a#b", "*", "http://h/x", "/a b", "/caf\xe9"]),
)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["POST"] * 8 + ["GET", "post", "PUT"]),
    target=_TARGET,
    version=st.sampled_from(["HTTP/1.1"] * 6 + ["HTTP/1.0"] * 2 + ["HTTP/1.2", "HTTP/2"]),
    fields=st.lists(
        st.tuples(_TOKEN, _VALUE, st.sampled_from([": "] * 6 + [":", ":  ", " : ", ":\t"])),
        max_size=6,
    ),
    length=st.one_of(
        st.integers(0, 50).map(str),
        st.integers(0, 50).map(str),
        st.none(),
        st.sampled_from(["+3", "3 ", "03", "", "1e3"]),
    ),
)
def test_generated_heads_are_read_as_gunicorn_reads_them_or_handed_on(
    method: str, target: str, version: str, fields: list[tuple[str, str, str]], length: str | None
) -> None:
    lines = [f"{method} {target} {version}"]
    lines += [f"{name}{colon}{value}" for name, value, colon in fields]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    head = "\r\n".join(lines).encode("latin-1")
    _same_as_gunicorn(head)  # asserts the two agree whenever common_head reads it


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=_PLAIN_TARGETS,
    version=st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "Accept",
                "X-Request-ID",
                "Authorization",
                "Origin",
                "User-Agent",
                "X-A",
                "Host",
                "Content-Type",
                "Cookie",
                "If-Match",
            ]
        ),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
        max_size=8,
    ),
    connection=st.sampled_from([None, "close", "keep-alive", "Close", " KEEP-ALIVE\t"]),
    length=st.integers(0, 10**12),
)
def test_generated_plain_heads_are_read_as_gunicorn_reads_them(
    target: str, version: str, fields: dict[str, str], connection: str | None, length: int
) -> None:
    """Every head of the plain shape is read here (none handed on), as gunicorn reads it."""
    lines = [f"POST {target} {version}", *(f"{k}: {v}" for k, v in fields.items())]
    if connection is not None:
        lines.append(f"Connection:{connection}")
    lines.append(f"Content-Length: {length}")
    read = _same_as_gunicorn("\r\n".join(lines).encode("ascii"))
    assert read is not None and read.content_length == length
