"""Stage 3 against local fault servers: prefetch semantics, faults, paging, deadline."""

from __future__ import annotations

import copy
import dataclasses
import time
from typing import Any

import orjson
import pytest

from cds_service.config import Config
from cds_service.discovery import build_services
from cds_service.gather import gather, needs_precondition, read_prefetch_value
from cds_service.request import parse_hook_request
from tests.service import samples

DEADLINE_MS = 1500
CONFIG = Config(allow_unsigned=True, deadline_ms=DEADLINE_MS, fhir_page_cap=4)


@pytest.fixture
def plan(knowledge):
    return build_services(knowledge)["rheum-order-sign"].prefetch


def _request(body: dict[str, Any]):
    return parse_hook_request("rheum-order-sign", orjson.dumps(body), {}, CONFIG, None)


def _gather(body: dict[str, Any], plan, config: Config = CONFIG):
    started = time.monotonic()
    record = gather(_request(body), plan, config, started + config.deadline_ms / 1000)
    return record, time.monotonic() - started


def _reasons(record) -> dict[str, str]:
    return {u.key: u.reason for u in record.unavailable}


def _serve_patient(server) -> None:
    server.data = {
        "Patient": [copy.deepcopy(samples.PATIENT)],
        "Condition": [copy.deepcopy(samples.RA)],
        "Observation": [copy.deepcopy(samples.CRP)],
        "MedicationRequest": [],
        "Immunization": [],
    }


def test_absent_keys_are_fetched_with_the_bearer_token(fault_server, plan):
    _serve_patient(fault_server)
    body = samples.order_sign(fhir_server=fault_server.base_url, token="tok-123")
    record, _ = _gather(body, plan)
    assert record.patient == samples.PATIENT
    assert samples.plain(record.conditions) == [samples.kept(samples.RA)]
    assert samples.plain(record.observations) == [samples.kept(samples.CRP)]
    assert record.unavailable == []
    assert record.fhir_calls == 5
    paths = fault_server.paths()
    assert f"/fhir/Patient/{samples.PATIENT_ID}" in paths
    obs = fault_server.paths("Observation")[0]
    assert f"patient={samples.PATIENT_ID}" in obs and "code=" in obs and "1988-5" in obs
    for _, headers in fault_server.requests:
        assert headers["Authorization"] == "Bearer tok-123"


def test_full_prefetch_makes_no_call(fault_server, plan):
    body = samples.order_sign(prefetch=samples.full_prefetch(), fhir_server=fault_server.base_url)
    record, _ = _gather(body, plan)
    assert fault_server.requests == []
    assert record.fhir_calls == 0
    assert record.patient == samples.PATIENT
    assert samples.plain(record.observations) == [samples.kept(samples.CRP)]


def test_null_prefetch_is_not_queried_again(fault_server, plan):
    _serve_patient(fault_server)
    prefetch = samples.full_prefetch()
    prefetch["observations"] = None
    prefetch["immunizations"] = None
    body = samples.order_sign(prefetch=prefetch, fhir_server=fault_server.base_url)
    record, _ = _gather(body, plan)
    assert fault_server.requests == []  # the server saw nothing at all
    assert record.observations == [] and record.unavailable == []


@pytest.mark.parametrize(
    "failed",
    [
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]},
        "<html><body>502 Bad Gateway</body></html>",
        {},
        42,
        {"response": {"status": "500 Internal Server Error"}, "resource": None},
    ],
    ids=["operation-outcome", "html-string", "empty-object", "number", "failed-wrapper"],
)
def test_failed_prefetch_is_fetched_again(fault_server, plan, failed):
    _serve_patient(fault_server)
    prefetch = samples.full_prefetch()
    prefetch["observations"] = failed
    body = samples.order_sign(prefetch=prefetch, fhir_server=fault_server.base_url)
    record, _ = _gather(body, plan)
    assert [p.split("?")[0] for p in fault_server.paths()] == ["/fhir/Observation"]
    assert samples.plain(record.observations) == [samples.kept(samples.CRP)]
    assert record.unavailable == []


def test_prefetch_shapes_real_ehrs_send(plan):
    prefetch = {
        # pre-1.0 wrapper
        "patient": {"response": {"status": "200 OK"}, "resource": copy.deepcopy(samples.PATIENT)},
        # Bundle without type, with total, an outcome entry
        "conditions": {
            "resourceType": "Bundle",
            "total": 1,
            "entry": [
                {"resource": copy.deepcopy(samples.RA)},
                {
                    "resource": {"resourceType": "OperationOutcome", "issue": []},
                    "search": {"mode": "outcome"},
                },
            ],
        },
        # a single resource instead of a Bundle
        "observations": copy.deepcopy(samples.CRP),
        "medicationRequests": {"resourceType": "Bundle", "type": "searchset", "total": 0},
        "immunizations": None,
        # a key discovery did not declare, holding the same CRP and a statement
        "labs": samples.searchset(
            copy.deepcopy(samples.CRP),
            {"resourceType": "MedicationStatement", "id": "ms1", "status": "active"},
        ),
    }
    record, _ = _gather(samples.order_sign(prefetch=prefetch), plan)
    assert record.patient == samples.PATIENT
    assert samples.plain(record.conditions) == [samples.kept(samples.RA)]
    # once, though sent twice
    assert samples.plain(record.observations) == [samples.kept(samples.CRP)]
    assert [m["id"] for m in record.medication_statements] == ["ms1"]
    assert record.unavailable == [] and record.fhir_calls == 0


def test_prefetch_bundle_next_page_is_followed_on_the_allowed_server(fault_server, plan):
    fault_server.data = {"Observation": [{"resourceType": "Observation", "id": "page2"}]}
    prefetch = samples.full_prefetch()
    prefetch["observations"]["link"] = [
        {"relation": "next", "url": f"{fault_server.base_url}/Observation?page=2"}
    ]
    body = samples.order_sign(prefetch=prefetch, fhir_server=fault_server.base_url)
    record, _ = _gather(body, plan)
    assert [o["id"] for o in samples.plain(record.observations)] == ["obs-crp", "page2"]
    assert record.fhir_calls == 1


def test_a_next_page_of_another_shape_after_a_typed_prefetch_is_read_each_once(fault_server, plan):
    # the prefetch's Bundle is decoded typed; its next page here is not (a status outside
    # FHIR's binding) and repeats a result of the prefetch: both read, that result once
    fault_server.data = {
        "Observation": [
            {"resourceType": "Observation", "id": "page2", "status": "Final"},
            {"resourceType": "Observation", "id": "obs-crp", "status": "Final"},
        ]
    }
    prefetch = samples.full_prefetch()
    prefetch["observations"]["link"] = [
        {"relation": "next", "url": f"{fault_server.base_url}/Observation?page=2"}
    ]
    body = samples.order_sign(prefetch=prefetch, fhir_server=fault_server.base_url)
    record, _ = _gather(body, plan)
    ids = [o["id"] if isinstance(o, dict) else o.id for o in record.observations]
    assert ids == ["obs-crp", "page2"]


def test_without_server_missing_data_is_listed_and_needs_precondition(plan):
    record, _ = _gather(samples.order_sign(), plan)
    assert set(_reasons(record)) == {item.key for item in plan}
    assert set(_reasons(record).values()) == {"no fhirServer"}
    assert needs_precondition(record, plan)
    partial = samples.order_sign(prefetch={"patient": copy.deepcopy(samples.PATIENT)})
    record, _ = _gather(partial, plan)
    assert not needs_precondition(record, plan)
    nulls = samples.order_sign(prefetch={k: None for k in samples.NO_PREFETCH_KEYS})
    record, _ = _gather(nulls, plan)
    assert record.unavailable == [] and not needs_precondition(record, plan)


FAULTS = [
    ("slow", "timeout"),
    ("500", "http 500"),
    ("401", "http 401"),
    ("429-long", "http 429"),
    ("html", "not json"),
    ("truncated", "not json"),
    ("short-body", "incomplete response"),
    ("operation-outcome", "OperationOutcome"),
    ("endless-next", "paging cap"),
    ("loop-next", "paging loop"),
    ("foreign-next", "paging link outside fhirServer"),
]


@pytest.mark.parametrize(("behaviour", "reason"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_ends_in_unavailable_within_the_deadline(fault_server, plan, behaviour, reason):
    _serve_patient(fault_server)
    fault_server.behave("Observation", behaviour)
    body = samples.order_sign(fhir_server=fault_server.base_url)
    record, elapsed = _gather(body, plan)
    assert elapsed < DEADLINE_MS / 1000 * 1.1
    assert _reasons(record) == {"observations": reason}
    assert record.patient == samples.PATIENT  # the other keys still arrived
    assert samples.plain(record.conditions) == [samples.kept(samples.RA)]
    if behaviour == "endless-next":
        assert len(fault_server.paths("Observation")) == CONFIG.fhir_page_cap
        assert len(record.observations) == CONFIG.fhir_page_cap  # pages read are kept
    if behaviour == "foreign-next":
        assert all("203.0.113.9" not in p for p in fault_server.paths())


def test_429_with_a_retry_after_that_fits_is_retried(fault_server, plan):
    _serve_patient(fault_server)
    fault_server.behave("Observation", "429-then-ok")
    # Retry-After: 1 s fits a 4 s deadline with room to spare on a loaded machine (under the
    # 1.5 s deadline of the other cases a slow first answer would rightly skip the retry)
    config = dataclasses.replace(CONFIG, deadline_ms=4000)
    body = samples.order_sign(fhir_server=fault_server.base_url)
    record, elapsed = _gather(body, plan, config)
    assert samples.plain(record.observations) == [samples.kept(samples.CRP)]
    assert record.unavailable == []
    assert len(fault_server.paths("Observation")) == 2
    assert 1.0 <= elapsed < config.deadline_ms / 1000 * 1.1
    assert record.fhir_calls == 6


def test_fetches_run_concurrently(fault_server, plan):
    _serve_patient(fault_server)
    fault_server.slow_seconds = 0.6
    for kind in ("Patient", "Condition", "Observation", "MedicationRequest", "Immunization"):
        fault_server.behave(kind, "slow")
    config = Config(allow_unsigned=True, deadline_ms=2500)
    record, elapsed = _gather(samples.order_sign(fhir_server=fault_server.base_url), plan, config)
    assert record.unavailable == []
    assert elapsed < 1.5  # five 0.6 s answers in parallel, not 3 s in a row


def test_connection_refused_is_listed(plan):
    body = samples.order_sign(fhir_server="http://127.0.0.1:9/fhir")
    record, elapsed = _gather(body, plan)
    assert set(_reasons(record).values()) == {"connection failed"}
    assert needs_precondition(record, plan)
    assert elapsed < DEADLINE_MS / 1000


def test_read_prefetch_value_states():
    assert read_prefetch_value(None).state == "null"
    assert read_prefetch_value([]).state == "null"
    assert read_prefetch_value({"response": {"status": "404"}, "resource": None}).state == "failed"
    assert read_prefetch_value({"resource": None, "response": {"status": "200"}}).state == "null"
    assert read_prefetch_value([samples.CRP]).resources == (samples.CRP,)
    assert read_prefetch_value(["x"]).state == "failed"


def test_next_links_must_stay_on_the_fhir_server():
    from cds_service.fhir_fetch import within

    base = "http://ehr.example/fhir"
    assert within("http://ehr.example:80/fhir?_getpages=abc&_getpagesoffset=20", base)
    assert within("http://EHR.example/fhir/Observation?page=2", base)
    assert not within("http://ehr.example/fhirevil/Observation", base)
    assert not within("https://ehr.example/fhir/Observation", base)
    assert not within("http://ehr.example:8443/fhir/Observation", base)
    assert not within("http://ehr.example:99999/fhir/Observation", base)
    assert not within("http://169.254.169.254/fhir/Observation", base)


def test_more_fetched_resources_than_the_limit_are_not_assessed_not_cut(fault_server, plan):
    _serve_patient(fault_server)
    fault_server.data["Observation"] = [
        dict(copy.deepcopy(samples.CRP), id=f"crp-{i}") for i in range(30)
    ]
    body = samples.order_sign(fhir_server=fault_server.base_url)
    config = Config(allow_unsigned=True, deadline_ms=DEADLINE_MS, fhir_page_cap=4, max_resources=10)
    record, _ = _gather(body, plan, config)
    assert record.observations == []  # never a part of them
    assert _reasons(record)["observations"] == "too many resources"
    assert record.patient == samples.PATIENT  # the keys that fit are kept


def test_typed_bundles_sharing_results_give_each_result_once_in_the_order_sent(plan):
    """Observation Bundles are decoded typed and taken whole when they can be: a result sent
    under two keys, or twice in one Bundle, is still read once, and a Condition with the id
    of an Observation is another resource."""

    def crp(rid: str) -> dict[str, Any]:
        return {**copy.deepcopy(samples.CRP), "id": rid}

    prefetch = {
        "observations": samples.searchset(crp("a"), crp("b"), crp("c")),
        "conditions": samples.searchset({**copy.deepcopy(samples.RA), "id": "a"}),
        "labs": samples.searchset(crp("d"), crp("b")),  # b sent under two keys
        "more": samples.searchset(crp("e"), crp("f"), crp("e")),  # e twice in one Bundle
    }
    record, _ = _gather(samples.order_sign(prefetch=prefetch), plan)
    assert all(type(o) is samples.TYPED["Observation"] for o in record.observations)
    assert [o["id"] for o in samples.plain(record.observations)] == ["a", "b", "c", "d", "e", "f"]
    assert [c["id"] for c in samples.plain(record.conditions)] == ["a"]
    assert record.distinct  # normalise may rely on it: no (type, id) twice
