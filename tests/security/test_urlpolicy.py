"""One outbound URL policy (issue 12, findings 1-3): what the check approves is exactly where the
connection goes. Two loopback servers record every request that lands on them: `fhir` (the
listed FHIR server, `http://localhost:F/fhir/R4`) and `evil` (`127.0.0.1:E`, never listed).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service import urlpolicy
from cds_service.app import create_app
from cds_service.config import Config
from cds_service.urlpolicy import Prefix, UrlRefused
from tests.fixtures.jwt import ClientSigner, JwksServer, bearer, trusted_client
from tests.service import samples

BASE_URL = "http://cds.example.test"
HOOK_PATH = "/cds-services/rheum-order-sign"
TOKEN = "secret-access-token"


@dataclass
class Landing:
    port: int
    path: str
    authorization: str | None


@dataclass
class Recorder:
    """Loopback HTTP servers that record every request (port, raw path, Authorization) and
    answer FHIR searches with an empty searchset whose `next` link is `next_url` (once)."""

    landings: list[Landing] = field(default_factory=list)
    next_url: str | None = None
    servers: list[ThreadingHTTPServer] = field(default_factory=list)

    def start(self) -> int:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                port = self.server.server_address[1]
                recorder.landings.append(Landing(port, self.path, self.headers["Authorization"]))
                body: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
                if recorder.next_url and "page=2" not in self.path:
                    body["link"] = [{"relation": "next", "url": recorder.next_url}]
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        return server.server_address[1]

    def on(self, port: int) -> list[Landing]:
        return [landing for landing in self.landings if landing.port == port]

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[Recorder, int, int]]:
    rec = Recorder()
    fhir_port, evil_port = rec.start(), rec.start()
    yield rec, fhir_port, evil_port
    rec.close()


@pytest.fixture
def servers(recorder: tuple[Recorder, int, int]) -> tuple[Recorder, int, int]:
    rec, fhir_port, evil_port = recorder
    rec.landings.clear()
    rec.next_url = None
    return rec, fhir_port, evil_port


@pytest.fixture(scope="module")
def signer() -> ClientSigner:
    return ClientSigner.generate("ES384", issuer="https://ehr.example.test", kid="k-url")


@pytest.fixture
def make_app(
    tmp_path: Path, signer: ClientSigner, servers: tuple[Recorder, int, int]
) -> Iterator[Callable[..., Flask]]:
    _, fhir_port, _ = servers
    with JwksServer() as jwks:
        jwks.publish("/jwks.json", signer)
        client = trusted_client(
            signer, [jwks.url("/jwks.json")], fhir_servers=[f"http://localhost:{fhir_port}/fhir/R4"]
        )

        def build(**overrides: Any) -> Flask:
            config = Config(
                base_url=BASE_URL,
                storage_url=f"sqlite:///{tmp_path / 'cds.db'}",
                clients=(client,),
                patient_hash_key="k",
                deadline_ms=3000,
            )
            return create_app(replace(config, **overrides))

        yield build


def _call(app: Flask, signer: ClientSigner | None, body: dict[str, Any]) -> Any:
    headers = bearer(signer, BASE_URL + HOOK_PATH) if signer else {}
    return app.test_client().post(HOOK_PATH, json=body, headers=headers)


def _allowed(port: int) -> str:
    return f"http://localhost:{port}/fhir/R4"


def _bypass(fhir_port: int, evil_port: int) -> str:
    return f"http://127.0.0.1:{evil_port}\\@localhost:{fhir_port}/fhir/R4"


# --------------------------------------------------------------------------- finding 1


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_backslash_userinfo_fhir_server_never_reaches_the_other_host(
    make_app: Callable[..., Flask], signer: ClientSigner, servers: Any, signed: bool
) -> None:
    rec, fhir_port, evil_port = servers
    app = make_app(allow_unsigned=not signed)
    body = samples.order_sign(fhir_server=_bypass(fhir_port, evil_port), token=TOKEN)
    response = _call(app, signer if signed else None, body)
    assert 400 <= response.status_code < 500
    assert response.is_json
    assert rec.landings == []


def test_backslash_userinfo_next_link_from_the_fhir_server_is_not_followed(
    make_app: Callable[..., Flask], signer: ClientSigner, servers: Any
) -> None:
    rec, fhir_port, evil_port = servers
    rec.next_url = _bypass(fhir_port, evil_port) + "/Observation?page=2"
    body = samples.order_sign(fhir_server=_allowed(fhir_port), token=TOKEN)
    response = _call(make_app(), signer, body)
    assert response.status_code == 200
    assert rec.on(fhir_port), "the listed server is called"
    assert rec.on(evil_port) == []


def test_backslash_userinfo_next_link_in_a_prefetch_bundle_is_not_followed(
    make_app: Callable[..., Flask], signer: ClientSigner, servers: Any
) -> None:
    rec, fhir_port, evil_port = servers
    prefetch = samples.full_prefetch()
    prefetch["observations"]["link"] = [
        {"relation": "next", "url": _bypass(fhir_port, evil_port) + "/Observation?page=2"}
    ]
    body = samples.order_sign(prefetch=prefetch, fhir_server=_allowed(fhir_port), token=TOKEN)
    response = _call(make_app(), signer, body)
    assert response.status_code == 200
    assert rec.on(evil_port) == []


def test_userinfo_in_a_listed_server_is_refused_at_start(tmp_path: Path) -> None:
    from cds_service.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="fhir_servers"):
        config_from_dict(
            {
                "clients": [
                    {
                        "issuer": "https://ehr.example.test",
                        "jwks_url": "https://ehr.example.test/jwks.json",
                        "fhir_servers": ["https://user:pw@fhir.example.test/r4"],
                    }
                ]
            },
            env={},
        )


# --------------------------------------------------------------------------- finding 2


@pytest.mark.parametrize(
    "link",
    [
        "/fhir/R4/../../admin/Observation?page=2",
        "/fhir/R4/%2e%2e/%2E%2E/admin/Observation?page=2",
        "/fhir/R4/..;/..;/admin/Observation?page=2",
        "/fhir/R4/./../R4x/Observation?page=2",
    ],
)
@pytest.mark.parametrize("source", ["fhir-server", "prefetch"])
def test_next_link_dot_segments_never_leave_the_path_prefix(
    make_app: Callable[..., Flask], signer: ClientSigner, servers: Any, link: str, source: str
) -> None:
    rec, fhir_port, _ = servers
    url = f"http://localhost:{fhir_port}{link}"
    prefetch = None
    if source == "fhir-server":
        rec.next_url = url
    else:
        prefetch = samples.full_prefetch()
        prefetch["observations"]["link"] = [{"relation": "next", "url": url}]
    body = samples.order_sign(prefetch=prefetch, fhir_server=_allowed(fhir_port), token=TOKEN)
    response = _call(make_app(), signer, body)
    assert response.status_code == 200
    for landing in rec.landings:
        assert landing.path.startswith("/fhir/R4/"), landing.path


# --------------------------------------------------------------------------- finding 3


MALFORMED = [
    "http://[::1",
    "http://[zz]:80/fhir/R4",
    "http://localhost:8080\uff03@evil.example/fhir/R4",
    "http://[::1]:99999/fhir",
    "http://exa mple/fhir",
    "http://\u0000localhost/fhir",
    "http://xn--/fhir",
]


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_fhir_server_is_a_4xx_with_an_operation_outcome(
    make_app: Callable[..., Flask], signer: ClientSigner, servers: Any, value: str
) -> None:
    rec, _, _ = servers
    response = _call(make_app(), signer, samples.order_sign(fhir_server=value, token=TOKEN))
    assert 400 <= response.status_code < 500, response.status_code
    assert response.is_json
    assert rec.landings == []


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_next_link_in_prefetch_is_not_a_500(
    make_app: Callable[..., Flask], signer: ClientSigner, servers: Any, value: str
) -> None:
    rec, fhir_port, _ = servers
    prefetch = samples.full_prefetch()
    prefetch["observations"]["link"] = [{"relation": "next", "url": value}]
    body = samples.order_sign(prefetch=prefetch, fhir_server=_allowed(fhir_port), token=TOKEN)
    response = _call(make_app(), signer, body)
    assert response.status_code == 200
    assert all(landing.path.startswith("/fhir/R4/") for landing in rec.landings)


# --------------------------------------------------------------------------- the policy itself


@pytest.mark.parametrize(
    "raw",
    [
        "http://127.0.0.1:1\\@localhost:2/fhir",
        "http://user@localhost/fhir",
        "http://user:pw@localhost/fhir",
        "http://localhost/fhir\\..\\admin",
        "http://localhost\t/fhir",
        "http://local\u0430ost/fhir",  # Cyrillic a
        "http://127.1/fhir",
        "http://0x7f.0.0.1/fhir",
        "http://2130706433/fhir",
        "http://%6cocalhost/fhir",
        "http://[fe80::1%25eth0]/fhir",
        "http://localhost/fhir/a%2fb",
        "ftp://localhost/fhir",
        "file:///etc/passwd",
        "//localhost/fhir",
    ],
)
def test_policy_refuses(raw: str) -> None:
    with pytest.raises(UrlRefused):
        urlpolicy.parse(raw)


def test_policy_compares_scheme_host_port_and_path_exactly() -> None:
    base = urlpolicy.parse("http://ehr.example/fhir")
    ok = [
        "http://EHR.example:80/fhir/Observation",
        "http://ehr.example/fhir",
        "http://ehr.example/fhir/%4Fbs",
    ]
    for raw in ok:
        assert urlpolicy.parse(raw).within(base), raw
    for raw in [
        "https://ehr.example/fhir/Observation",
        "http://ehr.example:8080/fhir/Observation",
        "http://ehr.example/fhirevil/Observation",
        "http://ehr.example/fhir/../admin",
        "http://ehr.example.evil/fhir/Observation",
    ]:
        assert not urlpolicy.parse(raw).within(base), raw


# Pieces attackers combine: hosts and ports (the listed one, the other server, look-alikes),
# userinfo and authority tricks, path tricks, and characters parsers disagree about.
_PIECES = st.sampled_from(
    [
        "localhost",
        "127.0.0.1",
        "LOCALHOST",
        "[::1]",
        ":{F}",
        ":{E}",
        ":",
        "@",
        "\\",
        "\\@",
        "/",
        "//",
        "/fhir/R4",
        "/fhir/R4/",
        "/fhir",
        "/..",
        "/.",
        "/%2e%2e",
        "/%2E.",
        ";",
        "..;",
        "%2f",
        "%5c",
        "?",
        "#",
        "\uff03",
        "\uff20",
        "\u3002",
        "%40",
        "%00",
        " ",
        "\t",
        "Observation",
        "admin",
        "x",
        "page=2",
        "&",
        "=",
    ]
)


def _url_strategy() -> st.SearchStrategy[str]:
    return st.builds(
        lambda scheme, parts: scheme + "".join(parts),
        st.sampled_from(["http://", "HTTP://", "http:/", "https://", "http:\\\\", ""]),
        st.lists(_PIECES, min_size=1, max_size=10),
    )


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(template=_url_strategy(), relative=st.booleans())
def test_nothing_reaches_a_host_or_path_the_policy_did_not_approve(
    servers: Any, template: str, relative: bool
) -> None:
    rec, fhir_port, evil_port = servers
    rec.landings.clear()
    raw = template.replace("{F}", str(fhir_port)).replace("{E}", str(evil_port))
    base = urlpolicy.parse(_allowed(fhir_port))
    policy = Prefix(base)
    current = urlpolicy.parse(_allowed(fhir_port) + "/Observation?patient=1")
    session = urlpolicy.outbound_session()
    try:
        approval = urlpolicy.resolve(raw, policy, base=current if relative else None)
    except UrlRefused:
        approval = None
    if approval is not None:
        assert approval.url.within(base)
        # the check and the connection agree: requests would send exactly the approved URL
        prepared = requests.Request("GET", approval.url.url).prepare()
        assert prepared.url == approval.url.url
        try:
            with urlpolicy.send(session, approval, timeout=2.0) as response:
                response.content  # noqa: B018
        except requests.RequestException:
            pass
    for landing in rec.landings:
        assert landing.port == fhir_port
        assert landing.path == "/fhir/R4" or landing.path.startswith("/fhir/R4/")
        assert "/../" not in landing.path and "%2e" not in landing.path.lower()
    if approval is None:
        assert rec.landings == []
    session.close()


@settings(max_examples=500, deadline=None)
@given(raw=st.text(max_size=60).map(lambda s: "http://" + s))
def test_a_parsed_url_parses_again_to_itself(raw: str) -> None:
    try:
        url = urlpolicy.parse(raw)
    except UrlRefused:
        return
    assert urlpolicy.parse(url.url) == url
    assert url.url.isascii()


def test_public_https_policy_checks_every_address_and_pins_the_checked_one() -> None:
    answers: dict[str, list[str]] = {
        "fhir.example.org": ["93.184.215.14"],
        "mixed.example.org": ["93.184.215.14", "10.0.0.5"],
        "meta.example.org": ["169.254.169.254"],
        "v6.example.org": ["::ffff:127.0.0.1"],
    }
    policy = urlpolicy.PublicHttps(resolver=lambda host, port: copy.copy(answers[host]))
    approval = policy.approve(urlpolicy.parse("https://fhir.example.org/r4"))
    assert approval is not None and approval.connect_to == "93.184.215.14"
    for host in ("mixed.example.org", "meta.example.org", "v6.example.org"):
        assert policy.approve(urlpolicy.parse(f"https://{host}/r4")) is None
    assert policy.approve(urlpolicy.parse("http://fhir.example.org/r4")) is None


def test_pinned_connection_goes_to_the_checked_address(servers: Any) -> None:
    rec, fhir_port, _ = servers
    url = urlpolicy.parse(f"http://fhir.invalid:{fhir_port}/fhir/R4/Patient/1")
    approval = urlpolicy.Approval(url, connect_to="127.0.0.1")
    with urlpolicy.send(urlpolicy.outbound_session(), approval, timeout=2.0) as response:
        assert response.status_code == 200
    assert [landing.path for landing in rec.on(fhir_port)] == ["/fhir/R4/Patient/1"]
