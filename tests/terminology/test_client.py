"""The terminology client pages through an expansion with offset/count and reads the version
the server expanded."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from cds_service.config import TerminologyConfig
from cds_service.terminology.client import TerminologyClient
from tests.terminology.helpers import SCT, StandIn

CODES = [str(100000 + i * 7) for i in range(5)]
VERSION = "http://snomed.info/sct/900000000000207008/version/20250101"


def _page(path: str) -> dict:
    query = parse_qs(urlsplit(path).query)
    offset, count = int(query["offset"][0]), int(query["count"][0])
    assert query["url"] == [f"{SCT}?fhir_vs=isa/{CODES[0]}"]
    return {
        "resourceType": "ValueSet",
        "expansion": {
            "total": len(CODES),
            "offset": offset,
            "parameter": [{"name": "version", "valueUri": VERSION}],
            "contains": [
                {"system": SCT, "code": c, "display": f"code {c}"}
                for c in CODES[offset : offset + count]
            ],
        },
    }


def test_expansion_is_read_page_by_page():
    server = StandIn(answer=_page)
    try:
        client = TerminologyClient(TerminologyConfig(url=server.url, page_size=2))
        expansion = client.expand_isa(CODES[0], time.monotonic() + 30)
    finally:
        server.stop()
    assert [code for code, _ in expansion.codes] == CODES
    assert expansion.codes[1][1] == f"code {CODES[1]}"
    assert expansion.version == VERSION
    assert server.calls("$expand") == 3  # 2 + 2 + 1


def _outcome(path: str) -> dict:
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": "outcome", "valueCode": "subsumes"}],
    }


def test_bearer_and_basic_credentials_are_sent():
    server = StandIn(answer=_outcome)
    try:
        bearer = TerminologyClient(TerminologyConfig(url=server.url, auth="bearer", token="t-1"))
        assert bearer.subsumes("1000001", "1000002", time.monotonic() + 10) == "subsumes"
        basic = TerminologyClient(
            TerminologyConfig(url=server.url, auth="basic", username="u", password="p")
        )
        basic.subsumes("1000001", "1000002", time.monotonic() + 10)
    finally:
        server.stop()
    assert server.authorizations == ["Bearer t-1", "Basic dTpw"]


def test_client_credentials_token_is_fetched_once_and_used():
    tokens = StandIn(answer={"access_token": "cc-token", "token_type": "Bearer", "expires_in": 600})
    server = StandIn(answer=_outcome)
    try:
        config = TerminologyConfig(
            url=server.url,
            auth="client_credentials",
            token_url=f"{tokens.url}/token",
            client_id="rheum-cds",
            client_secret="s3cret",
        )
        client = TerminologyClient(config)
        for _ in range(2):
            client.subsumes("1000001", "1000002", time.monotonic() + 10)
    finally:
        server.stop()
        tokens.stop()
    assert server.authorizations == ["Bearer cc-token", "Bearer cc-token"]
    assert len(tokens.paths) == 1
    assert tokens.authorizations[0] == "Basic cmhldW0tY2RzOnMzY3JldA=="  # client id:secret
