"""A plain hook call served in fewer steps, for the default worker (gevent_worker.py).

gunicorn serves every request the same general way: `wsgi.create` builds the environ from
scratch (a new `wsgi.errors` wrapper that looks up the error logger and its handlers, the
`SCRIPT_NAME` of the process environment, the request's fields, the percent-decoded path, an
early-hints callback), then `Response` checks the status and each field the application
answers with and writes the head and the body. On a worker whose caches the idle gap between
two hook calls emptied, that costs ~0.2 ms a call (docs/performance.md), for answers that are
all of one shape: a JSON body with a Content-Length.

For a request `request_head.common_head` read, two things are done here instead, each checked
against gunicorn's own result:

- `PlainEnviron` builds the environ from a copy of what is the same for every request on one
  listener (made once by gunicorn's own `base_environ`), plus the request's own keys, set as
  `wsgi.create` sets them. On each listener's first such request `PlainEnviron.matches_gunicorn`
  compares the two environs; any difference (another gunicorn) and that listener keeps
  `wsgi.create`. A request it does not cover (a `SCRIPT_NAME` in the process environment, a
  client address that is not an (address, port) pair, a listener not named that way) gets
  `wsgi.create` too.
- `PlainResponse` is gunicorn's `Response` whose `start_response` checks a plain answer (a
  status from 200 up, not 204 or 304, not to a HEAD request, a single digit-only
  Content-Length, no hop-by-hop field) with gunicorn's own patterns (`STATUS_RE`, `TOKEN_RE`,
  `HEADER_VALUE_RE`) in one loop, and whose first write sends the head with the body in one
  `sendall`. Any other answer (another status, no or a repeated Content-Length, a hop-by-hop
  field, a value or name gunicorn would refuse, `exc_info`, a second call) goes to gunicorn's
  `start_response`, which raises or answers as it always does. The bytes sent are gunicorn's
  (tests/reliability/test_plain_answer.py compares them).
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn import util
from gunicorn.http import wsgi

__all__ = ["PlainEnviron", "PlainResponse", "sent_with_head"]

# gunicorn's response checks (gunicorn 27 names them; absent, `PlainResponse` is not used)
_STATUS_RE = getattr(wsgi, "STATUS_RE", None)
_TOKEN_RE = getattr(wsgi, "TOKEN_RE", None)
_VALUE_RE = getattr(wsgi, "HEADER_VALUE_RE", None)
_HOP = frozenset(getattr(util, "hop_headers", ()))


def sent_with_head(resp: Any, piece: Any) -> bool:
    """Send gunicorn `Response` `resp`'s head (as its `send_headers` writes it) and `piece` in
    one `sendall` when `piece` is bytes within the declared Content-Length of a body the
    answer carries and nothing was sent yet; False, nothing sent, otherwise (chunked, no
    Content-Length, a body the method or status omits, a piece past the declared length):
    the caller then writes it as gunicorn does. gunicorn writes head and body in two."""
    if (
        resp.headers_sent
        or type(piece) is not bytes
        or resp.chunked
        or resp.response_length is None
        or getattr(resp, "_omits_body", True)
        or len(piece) > resp.response_length - resp.sent
    ):
        return False
    lines = resp.default_headers()
    lines.extend([f"{name}: {value}\r\n" for name, value in resp.headers])
    lines.append("\r\n")
    resp.headers_sent = True
    resp.sent += len(piece)
    resp.sock.sendall("".join(lines).encode("latin-1") + piece)
    return True


class PlainResponse(wsgi.Response):  # type: ignore[misc]
    """gunicorn's `Response`, with the plain answer's checks in one loop and its head sent
    with its body (module docstring)."""

    # gunicorn's checks by name, and its Response deciding per answer whether the body is
    # omitted (`_omits_body`): gunicorn 27 has both; in an older one the worker serves every
    # request with gunicorn's handle_request and Response
    usable = bool(
        _STATUS_RE
        and _TOKEN_RE
        and _VALUE_RE
        and _HOP
        and hasattr(wsgi.Response, "_response_omits_body")
    )

    def start_response(self, status: Any, headers: Any, exc_info: Any = None) -> Any:
        plain = None
        if exc_info is None and self.status is None:
            plain = self._plain(status, headers)
        if plain is None:
            return super().start_response(status, headers, exc_info)
        self.status = status
        self.status_code, self.headers, self.response_length = plain
        return self.write

    def _plain(self, status: Any, headers: Any) -> tuple[int, list[tuple[str, str]], int] | None:
        """(status code, fields as sent, Content-Length) of a plain answer, else None."""
        if type(status) is not str or not _STATUS_RE.fullmatch(status):  # type: ignore[union-attr]
            return None
        code = int(status[:3])
        if code < 200 or code in (204, 304) or self.req.method == "HEAD":
            return None
        kept: list[tuple[str, str]] = []
        length = -1
        for name, value in headers:
            if (
                type(name) is not str
                or type(value) is not str
                or not _TOKEN_RE.fullmatch(name)  # type: ignore[union-attr]
                or not _VALUE_RE.fullmatch(value)  # type: ignore[union-attr]
            ):
                return None
            lname = name.lower()
            if lname in _HOP:
                return None
            value = value.strip(" \t")
            if lname == "content-length":
                if length >= 0 or not (value.isascii() and value.isdigit()):
                    return None
                length = int(value)
            kept.append((name, value))
        if length < 0:
            return None
        return code, kept, length

    def write(self, arg: bytes) -> None:
        if not sent_with_head(self, arg):
            super().write(arg)


class PlainEnviron:
    """The environ of a request `common_head` read, on one listener, as `wsgi.create` builds
    it (module docstring)."""

    __slots__ = ("_base",)

    def __init__(self, cfg: Any, server: tuple[Any, ...]) -> None:
        base = wsgi.base_environ(cfg)
        base["wsgi.multithread"] = True  # as the async workers' handle_request sets it
        base["wsgi.url_scheme"] = "http"
        base["SERVER_NAME"] = server[0]
        base["SERVER_PORT"] = str(server[1])
        base["SCRIPT_NAME"] = ""
        self._base = base

    @staticmethod
    def covers(server: Any, client: Any) -> bool:
        """Whether a request on listener `server` from `client` is built here (else by
        `wsgi.create`)."""
        return (
            type(server) is tuple
            and type(client) is tuple
            and len(client) >= 2
            and not os.environ.get("SCRIPT_NAME")
        )

    def build(self, req: Any, sock: Any, client: tuple[Any, ...], resp: Any) -> dict[str, Any]:
        env = self._base.copy()
        env["wsgi.input"] = req.body
        env["gunicorn.socket"] = sock
        env["REQUEST_METHOD"] = req.method
        env["QUERY_STRING"] = req.query
        env["RAW_URI"] = req.uri
        env["SERVER_PROTOCOL"] = "HTTP/1.1" if req.version == (1, 1) else "HTTP/1.0"
        repeated: dict[str, list[str]] = {}
        for name, value in req.headers:
            if name == "CONTENT-TYPE":
                env["CONTENT_TYPE"] = value
                continue
            if name == "CONTENT-LENGTH":
                env["CONTENT_LENGTH"] = value
                continue
            key = "HTTP_" + name.replace("-", "_")
            if key in env:
                repeated.setdefault(key, [env[key]]).append(value)
            else:
                env[key] = value
        for key, values in repeated.items():
            env[key] = ",".join(values)
        env["REMOTE_ADDR"] = client[0]
        env["REMOTE_PORT"] = str(client[1])
        path = req.path
        env["PATH_INFO"] = util.unquote_to_wsgi_str(path) if "%" in path else path
        early_hints = getattr(wsgi, "_make_early_hints_callback", None)
        if early_hints is not None:
            env["wsgi.early_hints"] = early_hints(req, sock, resp)
        return env

    def matches_gunicorn(self, req: Any, sock: Any, client: Any, server: Any, cfg: Any) -> bool:
        """Whether `build` gives what `wsgi.create` gives for `req` (objects made per request,
        such as the error stream wrapper and the early-hints callback, compared by type)."""
        try:
            resp, theirs = wsgi.create(req, sock, client, server, cfg)
            theirs["wsgi.multithread"] = True
            ours = self.build(req, sock, client, resp)
        except Exception:  # noqa: BLE001 - any surprise means: keep wsgi.create
            return False
        if ours.keys() != theirs.keys():
            return False
        for key, value in theirs.items():
            mine = ours[key]
            if key in ("wsgi.errors", "wsgi.early_hints"):
                if type(mine) is not type(value):
                    return False
            elif mine != value or type(mine) is not type(value):
                return False
        return True
