"""One policy for every URL the service connects to: `fhirServer`, `next` links (from the FHIR
server and from prefetch Bundles), JWKS and `jku` URLs, and any later outbound URL.

Why one module: a check that parses a URL one way while the HTTP client parses it another is
an allow-list bypass (`http://127.0.0.1:E\\@localhost:F/fhir` is `localhost:F` to `urlsplit`
and `127.0.0.1:E` to `requests`). So:

- A URL is parsed once, here, with the parser `requests` itself uses (urllib3's `parse_url`),
  into a `Url` of plain parts. The string the client is given is rebuilt from those parts
  (`Url.url`) and checked to come back unchanged through `requests`' own request preparation,
  so what was approved is exactly what is sent.
- Refused outright (`UrlRefused`): schemes other than http/https, userinfo (`user@`),
  backslashes, control characters and whitespace anywhere, non-ASCII or `%` in the authority,
  host names that are not plain DNS names or IP literals (`127.1`, `0x7f.1`, zone ids), bad
  ports, encoded `/` or `\\` in the path, and `..;`-style segments.
- Dot segments are removed (after decoding the unreserved characters, as `requests` does, so
  `%2e%2e` counts) before any prefix comparison; scheme, host, port and path prefix are then
  compared exactly (`Url.within`).
- Redirects are never followed: `send` passes `allow_redirects=False`, and `outbound_session`
  reads no proxy settings or `.netrc` credentials from the environment.

Policies answer "may the service connect to this URL?": `Prefix` (one base URL and what lies
under it), `AnyOf` (an allow list), `PublicHttps` (any https server whose name resolves only to
public addresses; the connection then goes to the address that was checked — see `Approval`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

__all__ = [
    "AnyOf",
    "Approval",
    "Policy",
    "Prefix",
    "PublicHttps",
    "Url",
    "UrlRefused",
    "is_loopback",
    "outbound_session",
    "parse",
    "resolve",
    "send",
]

MAX_URL_CHARS = 8192
DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_\-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
_UNRESERVED_ESCAPE = re.compile(r"%(2[dDeE]|5[fF]|7[eE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA])")
_FORBIDDEN_PATH_ESCAPE = re.compile(r"%(2[fF]|5[cC]|00)")


class UrlRefused(ValueError):
    """The URL is malformed or not one the service will connect to. The message is a short,
    fixed reason: it never repeats the URL (it may carry a patient id)."""


@dataclass(frozen=True)
class Url:
    """An absolute http(s) URL as the HTTP client will use it.

    `host` is lower-case: a DNS name, a dotted IPv4 address or an IPv6 address (without
    brackets). `port` is always set (the scheme's default when the URL had none). `path` is
    absolute ("/" at least) with dot segments removed. `query` is "" when there is none; a
    fragment is never kept (it is not sent).
    """

    scheme: str
    host: str
    port: int
    path: str
    query: str = ""

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if DEFAULT_PORTS.get(self.scheme) == self.port:
            return host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The URL to give the HTTP client (and to compare, log-free, as a string)."""
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.netloc}{self.path}{query}"

    @property
    def base(self) -> str:
        """The URL as a base: no query, no trailing slash (`{base}/Patient/1`)."""
        return f"{self.scheme}://{self.netloc}{self.path.rstrip('/')}"

    def same_origin(self, other: Url) -> bool:
        return (self.scheme, self.host, self.port) == (other.scheme, other.host, other.port)

    def within(self, base: Url) -> bool:
        """Is this URL `base` or below it: same scheme, host and port, and a path equal to the
        base path or starting with it followed by "/" (both dot-normalised)."""
        if not self.same_origin(base):
            return False
        prefix = base.path.rstrip("/")
        path = self.path
        return not prefix or path == prefix or path.startswith(prefix + "/")

    def same_base(self, other: Url) -> bool:
        """The same base URL (trailing slash and query ignored)."""
        return self.same_origin(other) and self.path.rstrip("/") == other.path.rstrip("/")

    def join(self, reference: str) -> Url:
        """Resolve `reference` (absolute, or relative to this URL, as a `next` link may be)
        and parse the result."""
        _check_characters(reference)
        try:
            joined = urljoin(self.url, reference)
        except ValueError as exc:  # urljoin's own netloc checks (NFKC look-alikes)
            raise UrlRefused("malformed URL") from exc
        return parse(joined)

    def __str__(self) -> str:
        return self.url


def _check_characters(raw: str) -> None:
    if len(raw) > MAX_URL_CHARS:
        raise UrlRefused("URL too long")
    for ch in raw:
        code = ord(ch)
        if code <= 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
            raise UrlRefused("control character or whitespace in URL")
        if ch == "\\":
            raise UrlRefused("backslash in URL")
        if ch.isspace():
            raise UrlRefused("whitespace in URL")


def _check_host(host: str) -> str:
    """The host as the client will resolve it, or UrlRefused."""
    if host.startswith("["):
        if not host.endswith("]"):
            raise UrlRefused("malformed IPv6 literal")
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError as exc:
            raise UrlRefused("malformed IPv6 literal") from exc
        if address.scope_id:
            raise UrlRefused("IPv6 zone id in URL")
        return address.compressed
    host = host.lower()
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        raise UrlRefused("missing or overlong host")
    labels = name.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # Looks like an IPv4 address: only the plain dotted-quad form, because resolvers
        # also accept "127.1", "0x7f.0.0.1" or "2130706433" for 127.0.0.1.
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError as exc:
            raise UrlRefused("IPv4 address not in dotted-quad form") from exc
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise UrlRefused("host is not a DNS name")
    return name


def _decode_unreserved(path: str) -> str:
    # requests' requote_uri decodes %-escapes of unreserved characters before sending; do the
    # same first, so "%2e%2e" is seen as ".." by the dot-segment removal below.
    return _UNRESERVED_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), path)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4; refuses `..;x`-style segments that some servers resolve."""
    output: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        bare = segment.split(";", 1)[0]
        if bare in (".", "..") and bare != segment:
            raise UrlRefused("dot segment with parameters in path")
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
            continue
        output.append(segment)
    result = "/".join(output)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result


def parse(raw: str) -> Url:
    """Parse an absolute http(s) URL for connecting, or raise UrlRefused."""
    if not isinstance(raw, str):
        raise UrlRefused("URL is not a string")
    _check_characters(raw)
    match = _SCHEME.match(raw)
    if not match:
        raise UrlRefused("not an absolute URL")
    scheme = match.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise UrlRefused("scheme is not http or https")
    rest = raw[match.end() :]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not authority.isascii():
        raise UrlRefused("non-ASCII character in host")
    if "@" in authority:
        raise UrlRefused("userinfo in URL")
    if "%" in authority:
        raise UrlRefused("escaped character in host")
    try:
        parsed = parse_url(raw)
    except (LocationParseError, ValueError) as exc:
        raise UrlRefused("malformed URL") from exc
    if parsed.auth is not None or parsed.host is None:
        raise UrlRefused("malformed URL")
    # Our own split of the authority must agree with urllib3's.
    host_text = authority
    port_text = ""
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise UrlRefused("malformed IPv6 literal")
        host_text, port_text = authority[: end + 1], authority[end + 1 :]
        if port_text and not port_text.startswith(":"):
            raise UrlRefused("malformed URL")
        port_text = port_text[1:]
    elif ":" in authority:
        host_text, port_text = authority.split(":", 1)
    host = _check_host(host_text)
    expected_host = f"[{host}]" if ":" in host else host
    if (parsed.host or "").lower().rstrip(".") != expected_host.rstrip("."):
        if not (":" in host and parsed.host and _same_v6(parsed.host, host)):
            raise UrlRefused("host could not be read unambiguously")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UrlRefused("invalid port")
        port = int(port_text)
    else:
        port = DEFAULT_PORTS[scheme]
    if parsed.port is not None and parsed.port != port:
        raise UrlRefused("port could not be read unambiguously")
    path = parsed.path or ""
    if not path.isascii():
        raise UrlRefused("malformed path")
    path = _decode_unreserved(path)
    if _FORBIDDEN_PATH_ESCAPE.search(path):
        raise UrlRefused("escaped slash or NUL in path")
    path = _remove_dot_segments(path) or "/"
    query = parsed.query or ""
    if not query.isascii():
        raise UrlRefused("malformed query")
    url = Url(scheme=scheme, host=host.rstrip("."), port=port, path=path, query=query)
    _check_round_trip(url)
    return url


def _same_v6(text: str, host: str) -> bool:
    try:
        return ipaddress.IPv6Address(text.strip("[]")).compressed == host
    except ValueError:
        return False


def _check_round_trip(url: Url) -> None:
    """What `requests` will send for `url.url` must be `url.url` itself."""
    prepared = requests.PreparedRequest()
    try:
        prepared.prepare_url(url.url, None)
    except (requests.RequestException, LocationParseError, ValueError) as exc:
        raise UrlRefused("malformed URL") from exc
    sent = parse_url(prepared.url or "")
    host = f"[{url.host}]" if ":" in url.host else url.host
    if (
        sent.scheme != url.scheme
        or (sent.host or "").lower() != host
        or (sent.port or DEFAULT_PORTS[url.scheme]) != url.port
        or (_remove_dot_segments(_decode_unreserved(sent.path or "")) or "/") != url.path
    ):
        raise UrlRefused("URL would not be sent as checked")


def is_loopback(url: Url) -> bool:
    """A loopback host: a loopback name or a loopback address (no DNS lookup)."""
    if url.host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(url.host).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Approval:
    """A URL a policy allowed. `connect_to`, when set, is the IP address the connection must
    go to (the address the policy checked; the URL's host is still sent as `Host` and used
    for TLS server-name checks)."""

    url: Url
    connect_to: str | None = None


class Policy(Protocol):
    def approve(self, url: Url) -> Approval | None:
        """An Approval when the service may connect to `url`, else None."""
        ...


@dataclass(frozen=True)
class Prefix:
    """`base` and every URL below it (same scheme, host, port; path under the base path)."""

    base: Url

    def approve(self, url: Url) -> Approval | None:
        return Approval(url) if url.within(self.base) else None


@dataclass(frozen=True)
class AnyOf:
    """The first of `policies` that approves."""

    policies: tuple[Policy, ...]

    def approve(self, url: Url) -> Approval | None:
        for policy in self.policies:
            approval = policy.approve(url)
            if approval is not None:
                return approval
        return None


Resolver = Callable[[str, int], Sequence[str]]


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(text: str) -> bool:
    """A globally routable unicast address: not loopback, private, link-local (cloud metadata
    at 169.254.169.254 / fd00:ec2::254 included), CGNAT, multicast, reserved or unspecified."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
        and not address.is_reserved
        and not address.is_unspecified
    )


@dataclass(frozen=True)
class PublicHttps:
    """Any https URL whose host resolves only to public addresses. The approval pins the first
    checked address: `send` connects there, so a DNS answer that changes between the check and
    the connection (rebinding) cannot redirect the call to an internal address."""

    resolver: Resolver = _system_resolver

    def approve(self, url: Url) -> Approval | None:
        if url.scheme != "https":
            return None
        try:
            addresses = list(self.resolver(url.host, url.port))
        except (OSError, UnicodeError):
            return None
        if not addresses or not all(is_public_address(a) for a in addresses):
            return None
        return Approval(url, connect_to=addresses[0].split("%", 1)[0])


def resolve(raw: str, policy: Policy, base: Url | None = None) -> Approval:
    """Parse `raw` (relative to `base` when given) and approve it, or raise UrlRefused."""
    url = base.join(raw) if base is not None else parse(raw)
    approval = policy.approve(url)
    if approval is None:
        raise UrlRefused("URL not allowed")
    return approval


# --------------------------------------------------------------------------- connecting


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address an Approval pinned, keeping the URL's host name for the Host
    header, TLS SNI and certificate checks."""

    def __init__(self, address: str, host: str, **kwargs: Any) -> None:
        self._address = address
        self._host = host
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        host_params["host"] = self._address
        if host_params.get("scheme") == "https":
            pool_kwargs["server_hostname"] = self._host
            pool_kwargs["assert_hostname"] = self._host
        return host_params, pool_kwargs


def outbound_session(pool_size: int = 20) -> requests.Session:
    """A pooled session for outbound calls: no retries, no proxy settings or `.netrc`
    credentials from the environment."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session


def send(
    session: requests.Session,
    approval: Approval,
    *,
    headers: dict[str, str] | None = None,
    timeout: float | tuple[float, float],
    stream: bool = True,
) -> requests.Response:
    """GET an approved URL: never a redirect, never a proxy, and to the pinned address when
    the approval has one. The caller closes the response (`with send(...) as response`)."""
    url = approval.url
    if approval.connect_to is None:
        return session.get(
            url.url,
            headers=headers,
            timeout=timeout,
            stream=stream,
            allow_redirects=False,
            proxies={"http": "", "https": "", "no_proxy": "*"},
        )
    pinned = requests.Session()
    pinned.trust_env = False
    pinned.mount(f"{url.scheme}://", _PinnedAdapter(approval.connect_to, url.host, max_retries=0))
    all_headers = dict(headers or {})
    all_headers["Host"] = url.netloc
    # The one-off session is dropped with the response (its pool holds one connection).
    return pinned.get(
        url.url, headers=all_headers, timeout=timeout, stream=stream, allow_redirects=False
    )


def parse_all(raws: Iterable[str]) -> tuple[Url, ...]:
    return tuple(parse(raw) for raw in raws)
