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
