"""The metric of unclassified condition codes counts by code-system family, never the codes."""

from __future__ import annotations

import copy
import re

import orjson

from tests.service import samples

UNKNOWN_SCT = "999999001"
LOCAL = "http://hospital.example.org/fhir/diagnosis"


def _count(exposition: str, system: str) -> float:
    found = re.search(
        rf'^rheum_cds_unclassified_condition_codes_total\{{system="{system}"\}} (\S+)$',
        exposition,
        re.MULTILINE,
    )
    return float(found.group(1)) if found else 0.0


def test_unclassified_codes_are_counted_by_family_without_codes(app):
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)
    unknown = copy.deepcopy(samples.RA)
    unknown["id"] = "unknown-1"
    unknown["code"] = {
        "coding": [
            {"system": "http://snomed.info/sct", "code": UNKNOWN_SCT},
            {"system": LOCAL, "code": "DX-17"},
        ]
    }
    prefetch = samples.full_prefetch()
    prefetch["conditions"] = samples.searchset(copy.deepcopy(samples.RA), unknown)
    body = samples.order_sign(prefetch=prefetch)
    response = client.post(
        "/cds-services/rheum-order-sign",
        data=orjson.dumps(body),
        content_type="application/json",
        buffered=True,
    )
    assert response.status_code == 200, response.json
    after = client.get("/metrics").get_data(as_text=True)
    assert _count(after, "snomed") - _count(before, "snomed") == 1
    assert _count(after, "local") - _count(before, "local") == 1
    assert UNKNOWN_SCT not in after and "DX-17" not in after and LOCAL not in after
