"""The gunicorn worker `rheum-cds serve` and the container run by default: gunicorn's gevent
worker with a leaner connection loop.

Each connection is read cooperatively as with gunicorn's own gevent worker (a slow client costs
a greenlet and a socket, not the worker), by gunicorn's parser with the same limits, and with
the same deadline: reading a request's line and headers, together with the idle wait before
it on a kept-alive connection, must finish within `keepalive` seconds. What differs is only
what a connection costs the worker:

- one `gevent.Timeout` per connection, started and cancelled around each request head,
  instead of a new one per request;
- after an answer, the idle wait for the client's next request is one `recv`: a client that
  closes (most CDS clients call once per connection) is seen as the end of the stream there,
  without building a request parser, raising and catching gunicorn's end-of-stream
  exception; any bytes it sends go back to the parser unchanged;
- no HTTP/2 negotiation steps when HTTP/2 cannot apply (no TLS, `h2` not among
  `http_protocols`, as configured here); any other configuration runs gunicorn's own loop;
- a greenlet done with a connection waits for the next one (`ReusingPool`) instead of a new
  greenlet per connection; each connection in progress still has a greenlet of its own;
- greenlets do not record their spawning tree (gevent's `track_greenlet_tree`: a stack
  extract per connection, read only by debugging tools);
- a body with a Content-Length, when the application reads all of it, is read from the
  socket with one copy (`WholeBody`) instead of gunicorn's four or so; any other read of a
  body is gunicorn's. No deadline is added or removed: as before, a slow body holds its
  greenlet and what it has sent, nothing more;
- connections accept a body of up to 2 MB into the kernel before the worker reads it
  (`widen_receive_buffer`), instead of ~120 KB at a time;
- a request whose head arrives whole in the first read and is of the plain shape of a hook
  call (`request_head.common_head`: POST, an origin-form target, ordinary fields, one
  Content-Length) is read in one pass instead of by gunicorn's parser, then served by
  gunicorn's `handle_request` like any other (environ, answer, access log, errors); every
  other head goes to gunicorn's parser as read. Measured against the worker without it
  (2026-12-06, 600-resource order-sign, one client calling both and HealthChain in turn,
  3 x 600 calls, three times): p50 0.939-0.993x.
- such a request is then served by `serve_plain`, gunicorn's `handle_request` step for step
  (hooks, access log, error handling) with the environ of `plain_answer.PlainEnviron` (a copy
  of what is the same for every request on the listener, checked against `wsgi.create` on
  the listener's first request) and the answer of `plain_answer.PlainResponse` (gunicorn's
  checks of a plain answer in one loop, its head sent with its body); any other answer shape
  is gunicorn's. Measured against the worker without it (2026-12-06 19:17 UTC, same
  comparison, 3 x 600 calls): p50 0.964, 0.978, 0.974x.

The idle wait reads one gunicorn internal: whether the parser holds bytes read ahead of the
socket (`Unreader.buf`, an `io.BytesIO` in gunicorn 22 to 27). Each worker checks at start that
a gunicorn parser still keeps them there as expected (`read_ahead_is_visible`); if not, every
connection runs gunicorn's own loop. `whole_body` also takes those bytes, and checks per
request that gunicorn built the body as 22 to 27 do (a `Body` over a `LengthReader` of this
parser); any other shape keeps gunicorn's body.

Measured (2026-12-05, gunicorn 27.0.1, gevent 25.9.1; one worker; a WSGI app that reads the
600-resource order-sign body and answers; one client calling it, a sync worker and
HealthChain in turn, fresh connection per call, worker CPU per call over 3 x 2 500 calls):
gunicorn's gevent worker 0.58-0.62 ms, this one 0.53-0.57 ms (0.91x), sync 0.44-0.46 ms.
"""

from __future__ import annotations

import errno
import io
import socket
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import gevent
from gevent.greenlet import Greenlet
from gevent.hub import get_hub
from gevent.pool import Pool
from gunicorn import http, util
from gunicorn.http.body import Body, LengthReader
from gunicorn.workers import ggevent
from gunicorn.workers.ggevent import GeventWorker as _GunicornGeventWorker

from cds_service.plain_answer import PlainEnviron, PlainResponse
from cds_service.request_head import CommonHead, Limits, common_head


def read_ahead(unreader: Any) -> int | None:
    """How many bytes gunicorn's parser holds read ahead of the socket (the start of a
    pipelined request, the rest of a body), or None when it does not keep them where gunicorn
    22 to 27 do."""
    buf = getattr(unreader, "buf", None)
    if type(buf) is not io.BytesIO:
        return None
    return buf.seek(0, io.SEEK_END)  # gunicorn's own reads start by seeking there too


def read_ahead_is_visible(cfg: Any) -> bool:
    """Whether gunicorn's parser keeps the bytes it read ahead where `read_ahead` sees them,
    and takes back bytes read for it (checked on a parser over a list, no socket)."""
    try:
        parser = http.get_parser(cfg, [b"GET / HTTP/1.1\r\n"], ("127.0.0.1", 0))
        unreader = parser.unreader
        if read_ahead(unreader) != 0:
            return False
        unreader.unread(b"GET / HTTP/1.0\r\n\r\n")
        if read_ahead(unreader) != 18 or unreader.read(4) != b"GET ":
            return False
        return read_ahead(unreader) == 14
    except Exception:  # noqa: BLE001 - any surprise means: use gunicorn's own loop
        return False


_PIECE = 256 * 1024  # the largest recv of a body read whole (each allocates this much)


class WholeBody(Body):  # type: ignore[misc]
    """gunicorn's `Body` of a request with a Content-Length, whose read of all that is left
    of it goes to the socket directly: what the parser holds read ahead, then `recv`s of at
    most what is still missing, joined once.

    gunicorn's own read of a large body copies it four times or so (each `recv` into its
    parser's buffer, that buffer's value, a slice, the Body's own buffer) and asks for up to
    1 MB per `recv`, allocating that much each time. Here each byte is copied once after the
    `recv`, and memory grows with what has arrived, as in gunicorn: nothing is allocated up
    front from the declared length, so a client that declares a large body and sends it
    slowly holds no more than it sent. A read never asks the socket for more than the body's
    rest, so the next request on the connection stays where the parser finds it; bytes of it
    already read ahead go back to the parser. A body cut short (the client closes) is read
    short, as gunicorn reads it. A read that raises (the connection reset) marks the body
    failed, as gunicorn's does: the connection is not reused. Any other read (a part of the
    body, a line, the rest of a body partly read) is gunicorn's.

    Measured (2026-12-06, loaded machine): reading the 1.24 MB 3 000-resource order-sign body
    in the served worker 0.71-0.75 -> 0.56-0.57 ms of CPU (docs/performance.md).
    """

    def __init__(self, reader: LengthReader, sock: Any) -> None:
        super().__init__(reader)
        self.failed = False
        self._sock = sock

    def read(self, size: int | None = None) -> bytes:
        rest = self.reader.length
        if (
            rest > 0
            and (size is None or (type(size) is int and (size < 0 or size >= rest)))
            and not self.buf.tell()
        ):
            return self._read_rest(rest)
        data: bytes = super().read(size)
        return data

    def _read_rest(self, want: int) -> bytes:
        reader = self.reader
        unreader = reader.unreader
        held = unreader.buf.getvalue()
        if held:
            unreader.buf = io.BytesIO()
            if len(held) >= want:
                if len(held) > want:
                    unreader.unread(held[want:])  # the start of the next request
                reader.length = 0
                return held[:want]
        pieces = [held]
        have = len(held)
        recv = self._sock.recv
        try:
            while have < want:
                piece = recv(min(want - have, _PIECE))
                if not piece:
                    break  # the client closed: the body is short
                pieces.append(piece)
                have += len(piece)
        except BaseException:
            self.failed = True
            raise
        finally:
            reader.length = want - have
        return b"".join(pieces)


def whole_body(req: Any, unreader: Any, sock: Any) -> None:
    """Give a request with a Content-Length body a `WholeBody` when gunicorn built it as
    gunicorn 22 to 27 do (a `Body` over a `LengthReader` of this connection's parser, its
    read-ahead in an `io.BytesIO`); any other request keeps gunicorn's body."""
    body = getattr(req, "body", None)
    if type(body) is not Body:
        return
    reader = body.reader
    if (
        type(reader) is LengthReader
        and reader.unreader is unreader
        and type(getattr(reader, "length", None)) is int
        and reader.length > 0
        and type(unreader.buf) is io.BytesIO
        and type(body.buf) is io.BytesIO
        and not body.buf.tell()
    ):
        req.body = WholeBody(reader, sock)


RECEIVE_BUFFER = 2 * 1024 * 1024  # room for a 3 000-resource order-sign body (1.24 MB)


def widen_receive_buffer(listener: Any) -> None:
    """Let a client send a hook body of up to ~`RECEIVE_BUFFER` bytes without waiting for the
    worker to read it: the receive buffer of the connections `listener` accepts (inherited
    from it) is set to that, when it is smaller.

    A new connection starts with the kernel's default buffer (128 KB here, ~120 KB of body)
    and grows it only as the application reads, so a 1.24 MB body crossed a connection in
    ten or so rounds: a `recv` of ~120 KB, a window update sent, a wait for the next part.
    With the body already in the kernel, it is read in a few `recv`s. The kernel caps the
    size at `net.core.rmem_max` (208 KB by default: still ~1.7x the start; 4 MB here). The
    buffer fills only with what a client has sent and the worker has not read yet: a slow
    client holds no more than before; a client sending fast while the worker is busy with
    other calls can park up to twice the size set in kernel memory (the kernel counts its
    bookkeeping), against 128 KB before, within the kernel's `tcp_mem` limits (under cgroup
    v2, charged to the container). Receive-buffer autotuning is off for these connections
    (the size is set), which matters only for transfers far larger than the body limit.

    Measured (2026-12-06, loaded machine): reading the 3 000-resource body in the served
    worker 0.62-0.74 -> 0.35-0.37 ms of CPU, wall 0.93 -> 0.43 ms; capped at 208 KB 0.52 ms.
    """
    try:
        if listener.family not in (socket.AF_INET, socket.AF_INET6):
            return
        # the kernel reports twice the size set (it counts its bookkeeping too)
        if listener.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < 2 * RECEIVE_BUFFER:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    except (OSError, AttributeError):  # not a socket as expected: left as it is
        return


class ReusingPool(Pool):  # type: ignore[misc]
    """gevent's `Pool` whose greenlets, once done with a connection, wait for the next one
    instead of ending (at most `max_idle` wait).

    A new greenlet that runs Python code costs ~15-25 us (CPython 3.11 gives each its own
    frame stack: an mmap, page faults and an munmap per greenlet); handing a connection to a
    waiting one is a switch. Everything else is a `Pool`'s: each connection still has a
    greenlet of its own for as long as it is served (a slow client holds one greenlet, never
    the worker), `full()` / `free_count()` count the connections being served (waiting
    greenlets are not members), `join()` waits for them and `kill()` ends them. Each
    connection starts with an empty context (contextvars), as in a new greenlet. What differs:
    the greenlet `spawn` returns may serve later connections, so its result is not the
    call's (the server ignores it), and a `gevent.local` value a connection leaves behind is
    seen by the next one on that greenlet, as with the sync worker's one thread.
    """

    def __init__(self, size: int | None = None, max_idle: int = 32) -> None:
        super().__init__(size)
        self.max_idle = max_idle
        self._idle: list[Greenlet] = []  # waiting greenlets, each parked in _serve
        self._jobs: dict[Greenlet, tuple[Callable[..., Any], tuple[Any, ...]]] = {}

    def spawn(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Greenlet:
        if kwargs or self.size is None:
            return super().spawn(func, *args, **kwargs)
        if not self._semaphore.acquire(blocking=False):
            return super().spawn(func, *args)  # blocks as gevent's Pool does when full
        self._empty_event.clear()
        if self._idle:
            glet = self._idle.pop()
            self.greenlets.add(glet)
            self._jobs[glet] = (func, args)
            glet.parent.loop.run_callback(glet.switch)  # as Greenlet.start schedules a start
            return glet
        glet = Greenlet(self._serve)
        self.greenlets.add(glet)
        self._jobs[glet] = (func, args)
        glet.start()
        return glet

    def _serve(self) -> None:
        glet = gevent.getcurrent()
        hub = get_hub()
        while True:
            func, args = self._jobs.pop(glet)
            try:
                glet.gr_context = None  # a fresh context, as a new greenlet has
                func(*args)
            finally:
                del func, args
                self._done(glet)  # also when killed: the slot is free either way
            if len(self._idle) >= self.max_idle:
                return
            self._idle.append(glet)
            hub.switch()  # until spawn hands over the next connection

    def _done(self, glet: Greenlet) -> None:
        self.greenlets.discard(glet)
        self.dying.discard(glet)
        if not self.greenlets:
            self._empty_event.set()
        self._semaphore.release()


class GeventWorker(_GunicornGeventWorker):  # type: ignore[misc]
    lean_loop = False  # set per worker at start: the configuration and gunicorn allow it
    head_limits: Limits | None = None  # set with lean_loop when common heads are read here
    plain_serving = False  # set at start: common heads are served by serve_plain
    _environs: dict[Any, PlainEnviron | None]

    def init_process(self) -> None:
        gevent.config.track_greenlet_tree = False
        cfg = self.cfg
        self.lean_loop = bool(
            cfg.keepalive
            and not cfg.is_ssl
            and "h2" not in getattr(cfg, "http_protocols", "h1")
            and read_ahead_is_visible(cfg)
        )
        if self.lean_loop and cfg.proxy_protocol == "off":
            self.head_limits = Limits(cfg)
            self.plain_serving = PlainResponse.usable
        self._environs = {}
        if self.lean_loop:
            ggevent.Pool = ReusingPool  # what gunicorn's run() serves each listener with
        for listener in self.sockets:
            widen_receive_buffer(listener)
        super().init_process()

    def common_request(self, data: bytes, unreader: Any, sock: Any) -> CommonHead | None:
        """The request whose head `data` (the first bytes read of it) holds whole, when it is
        of the plain shape `request_head.common_head` reads, with its body reader; else None,
        and `data` is handed to gunicorn's parser."""
        limits = self.head_limits
        end = data.find(b"\r\n\r\n") if limits is not None else -1
        req = common_head(data[:end], limits) if limits is not None and end > 0 else None
        if req is None:
            unreader.unread(data)
            return None
        if len(data) > end + 4:
            unreader.unread(data[end + 4 :])  # the start of the body
        req.body = WholeBody(LengthReader(unreader, req.content_length), sock)
        return req

    def plain_environ(
        self, server: Any, req: CommonHead, sock: Any, addr: Any
    ) -> PlainEnviron | None:
        """The `PlainEnviron` of listener `server`, made and checked against `wsgi.create`
        on its first request; None when they differ (gunicorn's handle_request serves)."""
        try:
            return self._environs[server]
        except KeyError:
            pass
        made = PlainEnviron(self.cfg, server)
        environ = made if made.matches_gunicorn(req, sock, addr, server, self.cfg) else None
        if environ is None:
            self.log.debug("Plain environ differs from gunicorn's; not used.")
        self._environs[server] = environ
        return environ

    def serve_plain(self, listener_name: Any, req: CommonHead, sock: Any, addr: Any) -> None:
        """gunicorn's `handle_request` (base_async, with ggevent's exits) for a request
        `common_head` read: the same steps, hooks, access log and error handling, with the
        environ of `PlainEnviron` and the answer of `PlainResponse` (plain_answer.py)."""
        environ_of = None
        if PlainEnviron.covers(listener_name, addr):
            environ_of = self.plain_environ(listener_name, req, sock, addr)
        if environ_of is None:
            self.handle_request(listener_name, req, sock, addr)
            return
        cfg = self.cfg
        # the access log's request time, taken only when an access log is written
        logged = getattr(self.log, "access_log_enabled", True)  # gunicorn >= 25 tells
        request_start = datetime.now() if logged else None
        environ: dict[str, Any] = {}
        resp = None
        try:
            cfg.pre_request(self, req)
            resp = PlainResponse(req, sock, cfg)
            environ = environ_of.build(req, sock, addr, resp)
            self.nr += 1
            if self.nr >= self.max_requests:
                if self.alive:
                    self.log.info("Autorestarting worker after current request.")
                    self.alive = False
            if not self.alive or not cfg.keepalive:
                resp.force_close()
            respiter = self.wsgi(environ, resp.start_response)
            if self.is_already_handled(respiter):
                return
            try:
                if isinstance(respiter, environ["wsgi.file_wrapper"]):
                    resp.write_file(respiter)
                else:
                    for item in respiter:
                        resp.write(item)
                resp.close()
            finally:
                if request_start is not None:
                    self.log.access(resp, req, environ, datetime.now() - request_start)
                if hasattr(respiter, "close"):
                    respiter.close()
            if resp.should_close():
                raise StopIteration()
        except StopIteration:
            raise
        except OSError:
            util.reraise(*sys.exc_info())
        except gevent.GreenletExit:
            pass  # ggevent's handle_request lets the connection's greenlet end quietly
        except (Exception, SystemExit):
            if resp is not None and resp.headers_sent:
                # as gunicorn: an answer begun cannot be followed by an error page
                self.log.exception("Error handling request")
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
                raise StopIteration() from None
            if not isinstance(sys.exc_info()[1], SystemExit):
                raise
            # a SystemExit before the answer began (gunicorn's timeout abort): ggevent's
            # handle_request lets it pass
        finally:
            try:
                cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        if not self.lean_loop:
            super().handle(listener, client, addr)
            return
        client.setblocking(1)
        req = None
        deadline = gevent.Timeout(self.cfg.keepalive, False)
        try:
            parser = http.get_parser(self.cfg, client, addr)
            unreader = parser.unreader
            try:
                listener_name = listener.getsockname()
                proxy_protocol_info: dict[str, Any] = {}
                served: Any = None  # the last request served (gunicorn's or a CommonHead)
                while True:
                    req = None
                    deadline.start()
                    try:
                        if getattr(getattr(served, "body", None), "failed", False):
                            break  # the last body was malformed: gunicorn stops here too
                        if type(served) is CommonHead:
                            # what the application left of its body is read and dropped, as
                            # gunicorn's parser does before the next request
                            while served.body.read(8192):
                                pass
                        if not read_ahead(unreader):
                            # the first request, or idle on a kept-alive connection: wait for
                            # what the client sends
                            data = client.recv(8192)
                            if not data:
                                break  # the client closed it
                            req = self.common_request(data, unreader, client)
                        if req is None:
                            req = next(parser)
                    except gevent.Timeout as exc:
                        if exc is not deadline:
                            raise
                        break  # no (complete) request head within keepalive seconds
                    finally:
                        deadline.cancel()
                    if not req:
                        break
                    served = req
                    if type(req) is not CommonHead:
                        whole_body(req, unreader, client)
                    if req.proxy_protocol_info:
                        proxy_protocol_info = req.proxy_protocol_info
                    else:
                        req.proxy_protocol_info = proxy_protocol_info
                    if type(req) is CommonHead and self.plain_serving:
                        self.serve_plain(listener_name, req, client, addr)
                    else:
                        self.handle_request(listener_name, req, client, addr)
            except http.errors.NoMoreData as exc:
                self.log.debug("Ignored premature client disconnection. %s", exc)
            except StopIteration as exc:
                self.log.debug("Closing connection. %s", exc)
            except OSError:
                util.reraise(*sys.exc_info())
            except Exception as exc:
                self.handle_error(req, client, addr, exc)
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
            else:
                self.log.debug("Ignoring socket error: %s", errno.errorcode.get(exc.errno))
        except BaseException as exc:
            self.handle_error(req, client, addr, exc)
        finally:
            deadline.close()
            util.close(client)
