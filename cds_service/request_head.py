"""A hook call's request head read in one step, for the default worker (gevent_worker.py).

gunicorn's parser reads every request line by line through several layers of Python (its
unreader, a line reader, per-header policy, the URI split), which cost a hook call ~0.24 ms of
a cache-cold worker before the application starts (docs/performance.md). Most heads a CDS
client sends are the same plain shape: `POST /cds-services/<id> HTTP/1.1`, a handful of
ordinary fields, one Content-Length. `common_head` reads exactly that shape in one pass and
returns a `CommonHead` that gunicorn's own `handle_request` serves as it serves its `Request`
(the environ, the answer, the access log and the error handling stay gunicorn's).

Anything else returns None and the worker hands the same bytes to gunicorn's parser, which
reads them as before: another method, an absolute or `//` target, a fragment, a target or
field value with a byte outside visible ASCII, obsolete line folding, an empty line before the
request line, a field name with `_` (gunicorn drops or refuses those), Transfer-Encoding,
Expect, Upgrade, a forwarded-scheme field (`secure_scheme_headers`: their trust depends on the
peer), no Content-Length or more than one, a repeated Host, Content-Type or Connection, a
Connection other than `close` / `keep-alive`, and any head at or over gunicorn's limits
(`limit_request_line`, `limit_request_fields`, `limit_request_field_size`). So every head read
here is one gunicorn's parser reads the same way (tests/reliability/test_request_head.py compares
the two on generated heads), and every head it would refuse still meets its refusal.

Pure function over bytes; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

__all__ = ["CommonHead", "Limits", "common_head"]

# RFC 9112 request line, narrowed: POST, an origin-form target of RFC 3986 path and query
# characters (percent-escapes as sent), HTTP/1.0 or 1.1
_REQUEST_LINE = re.compile(
    rb"POST (/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)(?:\?([A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*))?"
    rb" HTTP/1\.([01])"
)
# a field line: an RFC 9110 token without "_", then a value of visible ASCII with inner
# spaces or tabs, optional whitespace around it
_FIELD = re.compile(
    rb"([A-Za-z0-9!#$%&'*+\-.^`|~]+):[ \t]*((?:[\x21-\x7e](?:[ \t\x21-\x7e]*[\x21-\x7e])?)?)[ \t]*"
)
# fields whose meaning gunicorn decides by policy or that change how the body is framed
_HANDED_ON = frozenset({"TRANSFER-ENCODING", "EXPECT", "UPGRADE"})
_ONCE = frozenset({"HOST", "CONTENT-TYPE", "CONNECTION", "CONTENT-LENGTH"})
_MAX_DIGITS = 18  # a Content-Length that fits a machine integer with room to spare
# gunicorn.http.message's MAX_REQUEST_LINE, MAX_HEADERS, DEFAULT_MAX_HEADERFIELD_SIZE
_MAX_LINE, _MAX_FIELDS, _MAX_FIELD_SIZE = 8190, 32768, 8190


class Limits:
    """gunicorn's head limits and the forwarded-scheme fields of one configuration."""

    __slots__ = ("line", "fields", "field_size", "scheme_fields")

    def __init__(self, cfg: Any) -> None:
        # as gunicorn's Request and Message settle them; a limit gunicorn reads as unlimited
        # is its largest one here (such heads go to gunicorn's parser)
        line = int(cfg.limit_request_line)
        self.line = line if 0 < line < _MAX_LINE else _MAX_LINE
        fields = int(cfg.limit_request_fields)
        self.fields = fields if 0 < fields <= _MAX_FIELDS else _MAX_FIELDS
        field_size = int(cfg.limit_request_field_size)
        self.field_size = field_size if field_size > 0 else _MAX_FIELD_SIZE
        scheme_fields: Collection[str] = getattr(cfg, "secure_scheme_headers", None) or {}
        self.scheme_fields = frozenset(name.upper() for name in scheme_fields)


class CommonHead:
    """A request as gunicorn's `Request` presents it to `handle_request`, `wsgi.create`, the
    answer and the access log (the members those read), for a head `common_head` accepted.
    `body` is set by the worker."""

    __slots__ = (
        "method",
        "uri",
        "path",
        "query",
        "version",
        "headers",
        "content_length",
        "body",
        "scheme",
        "proxy_protocol_info",
        "must_close",
        "_expected_100_continue",
    )

    def __init__(
        self,
        uri: str,
        path: str,
        query: str,
        minor: int,
        headers: list[tuple[str, str]],
        content_length: int,
    ) -> None:
        self.method = "POST"
        self.uri = uri
        self.path = path
        self.query = query
        self.version = (1, minor)
        self.headers = headers
        self.content_length = content_length
        self.body: Any = None
        self.scheme = "http"
        self.proxy_protocol_info: dict[str, Any] | None = None
        self.must_close = False
        self._expected_100_continue = False

    def force_close(self) -> None:
        self.must_close = True

    def should_close(self) -> bool:
        """gunicorn's rule: forced, else the Connection field, else HTTP/1.0 closes."""
        if self.must_close:
            return True
        for name, value in self.headers:
            if name == "CONNECTION":
                return value.lower() == "close"
        return self.version <= (1, 0)


def common_head(head: bytes, limits: Limits) -> CommonHead | None:
    """The request of `head` (the bytes before the blank line that ends it), or None when it
    is not of the plain shape read here (module docstring): gunicorn's parser reads it then."""
    lines = head.split(b"\r\n")
    line = lines[0]
    if len(line) >= limits.line or len(lines) - 1 >= limits.fields:
        return None
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        return None
    path_b, query_b, minor = match.groups()
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    content_length = -1
    field_size = limits.field_size
    scheme_fields = limits.scheme_fields
    for field in lines[1:]:
        if len(field) + 2 >= field_size:
            return None
        got = _FIELD.fullmatch(field)
        if got is None:
            return None
        name = got[1].decode("ascii").upper()
        value = got[2].decode("ascii")
        if name in _HANDED_ON or name in scheme_fields:
            return None
        if name in _ONCE:
            if name in seen:
                return None
            seen.add(name)
            if name == "CONTENT-LENGTH":
                if not value.isdigit() or len(value) > _MAX_DIGITS:
                    return None
                content_length = int(value)
            elif name == "CONNECTION" and value.lower() not in ("close", "keep-alive"):
                return None
        headers.append((name, value))
    if content_length < 0:
        return None
    uri = line[5 : line.rindex(b" ")].decode("ascii")
    return CommonHead(
        uri,
        path_b.decode("ascii"),
        query_b.decode("ascii") if query_b is not None else "",
        int(minor),
        headers,
        content_length,
    )
