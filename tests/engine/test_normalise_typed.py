"""Observations decoded typed (cds_service.fhir_json) give the same Facts as the same JSON read
as plain dicts, for every shape EHRs send; shapes the typed records do not describe are read
as plain JSON, never refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import msgspec
import orjson
import pytest

from bench import bodies
from cds_service import fhir_json
from cds_service.config import Config
from cds_service.discovery import build_services
from cds_service.fhir_fetch import bundle_resources
from cds_service.fhir_json import (
    Condition,
    MedicationRequest,
    Observation,
    TypedBundle,
    bundle_typed,
    decode_resource,
)
from cds_service.gather import gather
from cds_service.knowledge import load_knowledge
from cds_service.normalise import normalise
from cds_service.normalise.conditions import normalise_conditions
from cds_service.normalise.medications import normalise_medications
from cds_service.normalise.observations import normalise_observations
from cds_service.normalise.orders import recognise_orders
from cds_service.request import parse_hook_request

K = load_knowledge()
LOINC = "http://loinc.org"


def obs(code: str, rid: str | None = "o1", when: Any = "2026-10-01", **members: Any):
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p"},
    }
    if rid is not None:
        resource["id"] = rid
    if when is not None:
        resource["effectiveDateTime"] = when
    resource.update(members)
    return resource


def q(value: Any, code: Any = None, **more: Any) -> dict[str, Any]:
    out = {"value": value, **more}
    if code is not None:
        out["code"] = code
    return {"valueQuantity": out}


# (observation, decoded typed?) — typed: the shape the typed records describe
CORPUS: list[tuple[dict[str, Any], bool]] = [
    (
        obs("1988-5", "crp", **q(1.2, "mg/dL", unit="mg/dL", system="http://unitsofmeasure.org")),
        True,
    ),
    (obs("1988-5", "crp-int", **q(12, "mg/L")), True),
    (obs("1988-5", "crp-lt", **q(0.5, "mg/dL", comparator="<")), True),
    (obs("1988-5", "crp-le", **q(0.5, "mg/dL", comparator="≤")), True),
    (obs("1988-5", "crp-human", **q(1.1, "258797006", unit="mg/dL")), True),
    (obs("1988-5", "crp-mmol", **q(1.1, "mmol")), True),
    (obs("1988-5", "crp-nounit", **q(1.1)), True),
    (obs("1988-5", "crp-units", valueQuantity={"value": 1.1, "units": "mg/dL"}), True),
    (obs("1988-5", "crp-str", valueString="<0.5 mg/dL"), True),
    (obs("1988-5", "crp-nodate", when=None, **q(3.0, "mg/L")), True),
    (
        obs(
            "1988-5",
            "crp-period",
            when=None,
            effectivePeriod={"start": "2026-09-03"},
            **q(3.0, "mg/L"),
        ),
        True,
    ),
    (obs("1988-5", "crp-baddate", when="yesterday", **q(3.0, "mg/L")), True),
    (obs("1988-5", None, **q(4.0, "mg/L")), True),
    # empty texts where the inline read tests members by their truth (fhir_json: str, None
    # or UNSET): read as the general readers read them
    (obs("1988-5", "", **q(4.0, "mg/L")), True),
    (obs("1988-5", "crp-emptydate", when="", **q(4.0, "mg/L")), True),
    (obs("1988-5", "crp-emptyunit", **q(4.0, "")), True),
    (obs("1988-5", "crp-nullunit", valueQuantity={"value": 4.0, "code": None}), True),
    (obs("1988-5", "crp-novalue", valueQuantity={"code": "mg/L"}), True),
    (obs("1988-5", "crp-nullvalue", valueQuantity={"value": None, "code": "mg/L"}), True),
    (obs("1988-5", "crp-eie", status="entered-in-error", **q(99, "mg/L")), True),
    (obs("1988-5", "crp-cancelled", status="cancelled", **q(99, "mg/L")), True),
    (obs("1988-5", "crp-nostatus", status=None, **q(9, "mg/L")), True),
    # a status outside FHIR's required binding: its Bundle read as plain JSON, as before
    (obs("1988-5", "crp-Final", status="Final", **q(9, "mg/L")), False),
    (obs("1988-5", "crp-eie-caps", status="Entered-In-Error", **q(99, "mg/L")), False),
    (obs("1988-5", "crp-absent", dataAbsentReason={"text": "not done"}), True),
    (obs("1988-5", "crp-bool", valueBoolean=True), True),
    (obs("5196-1", "hbsag", valueString="negative"), True),
    (
        obs(
            "5196-1",
            "hbsag-num",
            interpretation=[{"coding": [{"code": "NEG"}]}],
            **q(0.1, "[IU]/mL"),
        ),
        True,
    ),
    (obs("71773-6", "igra", **q(0.12, "[IU]/mL")), True),
    (obs("72166-2", "smoke", valueCodeableConcept={"text": "Never smoker"}), True),
    (obs("88981-6", "tjc", valueInteger=4), True),
    (obs("75894-6", "ptga-bare", **q(4)), True),
    (obs("4537-7", "esr-neg", **q(-3, "mm/h")), True),
    (obs("8867-4", "pulse", **q(70, "/min")), True),  # no concept reads it
    (
        {
            "resourceType": "Observation",
            "id": "by-name",
            "code": {"text": "C-reactive protein"},
            "effectiveDateTime": "2026-10-01",
            **q(5.0, "mg/L"),
        },
        True,
    ),
    (
        obs(
            "85354-9",
            "bp",
            component=[
                {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, **q(150, "mm[Hg]")},
                {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]}, **q(95, "mm[Hg]")},
            ],
        ),
        True,
    ),
    (obs("6690-2", "wbc", **q(6.0, "10*3/uL")), True),
    (obs("770-8", "neut-pct", **q(60, "%")), True),
    # shapes the typed records do not describe: read as plain JSON
    (obs("1988-5", "crp-strvalue", valueQuantity={"value": "1.2", "code": "mg/dL"}), False),
    (obs("1988-5", "crp-boolvalue", valueQuantity={"value": True, "code": "mg/dL"}), False),
    (obs("1988-5", "crp-quantity-str", valueQuantity="12"), False),
    # the code is kept as its JSON text and read by the general reader: any shape stays typed
    (
        {**obs("1988-5", "one-coding"), "code": {"coding": {"system": LOINC, "code": "1988-5"}}},
        True,
    ),
    (
        {**obs("1988-5", "numeric-code"), "code": {"coding": [{"system": LOINC, "code": 1988}]}},
        True,
    ),
    (
        {
            **obs("1988-5", "code-members", **q(2.0, "mg/dL")),
            "code": {
                "extension": [{"url": "http://example.org/x", "valueString": "y"}],
                "coding": [
                    {"system": "http://example.org/local", "code": "CRP", "display": "CRP"},
                    {"system": LOINC, "version": "2.77", "code": "1988-5", "userSelected": True},
                ],
                "text": "CRP",
            },
        },
        True,
    ),
    ({**obs("1988-5", "code-null", **q(2.0, "mg/dL")), "code": None}, True),
    ({**obs("1988-5", "code-list", **q(2.0, "mg/dL")), "code": [{"text": "CRP"}]}, True),
    ({**obs("1988-5", "code-text", **q(2.0, "mg/dL")), "code": "1988-5"}, True),
    (obs("1988-5", "unit-list", valueQuantity={"value": 2.0, "unit": ["mg/dL"]}), True),
]


def _bundle(*resources: dict[str, Any]) -> bytes:
    return orjson.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]})


def _both(resources: list[dict[str, Any]]):
    decoded = decode_resource(_bundle(*resources))
    typed = (
        bundle_typed(decoded)
        if isinstance(decoded, TypedBundle)
        else [e["resource"] for e in decoded["entry"]]
    )
    return normalise_observations(resources, K.vs), normalise_observations(typed, K.vs), decoded


@pytest.mark.parametrize(("resource", "typed"), CORPUS, ids=lambda v: str(v)[:40])
def test_each_shape_gives_the_same_observations_typed_or_plain(resource, typed):
    plain, from_typed, decoded = _both([resource])
    assert from_typed == plain
    assert isinstance(decoded, TypedBundle) is typed


def test_a_whole_chart_gives_the_same_observations_typed_or_plain():
    resources = [r for r, typed in CORPUS if typed]
    resources += [obs("1988-5", "crp", **q(9.0, "mg/L"))]  # the same id again: read once
    plain, from_typed, decoded = _both(resources)
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    assert plain[0]["crp"] and plain[1]  # values and dropped results, both


@pytest.mark.parametrize("first_text", [True, False])
def test_an_id_sent_twice_is_read_once_per_concept_whichever_reader_reads_each(first_text):
    """A result read by the general readers (a text value) and one read inline (a plain
    number) under the same id: the first in the Bundle's order is kept, typed as plain; the
    same id under another concept is another result."""
    text = obs("1988-5", "dup", valueString="12 mg/L")
    number = obs("1988-5", "dup", "2026-09-01", **q(3.0, "mg/L"))
    other = obs("4537-7", "dup", **q(30, "mm/h"))
    resources = [text, number, other] if first_text else [number, text, other]
    plain, from_typed, decoded = _both(resources)
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    assert [o.value for o in plain[0]["crp"]] == [12.0 if first_text else 3.0]  # mg/L
    assert len(plain[0]["esr"]) == 1


@pytest.mark.parametrize(
    "first",
    ["none", "listed without id", "dropped under an id", "both"],
)
def test_results_read_by_either_reader_are_all_kept_whatever_comes_first(first):
    """A result the general readers list without an id, or one they drop under an id, before
    plain numbers of the same concept read inline: every usable result is kept, none lost
    (the first inline number once replaced the list), and the call never fails (a KeyError
    once answered such a chart with a 500)."""
    no_id = obs("1988-5", None, "2026-08-01", valueString="12 mg/L")
    dropped = obs("1988-5", "bad", "2026-07-01", valueString="lipaemic")
    numbers = [obs("1988-5", f"n{i}", f"2026-09-0{i}", **q(float(i), "mg/L")) for i in (1, 2)]
    before = {
        "none": [],
        "listed without id": [no_id],
        "dropped under an id": [dropped],
        "both": [dropped, no_id],
    }[first]
    plain, from_typed, decoded = _both([*before, *numbers])
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    expected = [1.0, 2.0] + ([12.0] if no_id in before else [])
    assert sorted(o.value for o in from_typed[0]["crp"]) == expected


def test_one_odd_observation_leaves_its_bundle_plain_and_read_as_before():
    odd = obs("1988-5", "crp-strvalue", valueQuantity={"value": "1.2", "code": "mg/dL"})
    resources = [obs("1988-5", "crp", **q(1.2, "mg/dL")), odd]
    plain, from_typed, decoded = _both(resources)
    assert isinstance(decoded, dict)
    assert from_typed == plain and len(plain[0]["crp"]) == 2


def test_a_bundle_of_other_resources_or_without_resource_type_stays_plain():
    assert isinstance(decode_resource(_bundle({"resourceType": "Patient", "id": "c"})), dict)
    assert isinstance(decode_resource(b'{"entry": [{"resource": {"id": "x"}}]}'), dict)
    assert isinstance(decode_resource(_bundle({"id": "no-type"})), dict)


@pytest.mark.parametrize("size", [60, 600])
def test_order_sign_body_gives_the_same_facts_as_plain_json(size):
    """The whole request path (parse, gather from prefetch, normalise) with typed
    Observations against the same body's record made of plain dicts."""
    config = Config(allow_unsigned=True)
    plan = build_services(K)["rheum-order-sign"].prefetch
    raw = orjson.dumps(bodies.order_sign_body(size))
    hook_request = parse_hook_request("rheum-order-sign", raw, {}, config, None)
    record = gather(hook_request, plan, config, 1e12)
    assert record.observations and all(type(o) is Observation for o in record.observations)
    plain_request = parse_hook_request("rheum-order-sign", raw, {}, config, None)
    plain_request.prefetch.update(orjson.loads(raw)["prefetch"])
    plain_record = gather(plain_request, plan, config, 1e12)
    assert all(isinstance(o, dict) for o in plain_record.observations)
    orders = recognise_orders(hook_request.draft_orders, K)
    today = date.today()
    assert normalise(record, orders, K, today) == normalise(plain_record, orders, K, today)


@pytest.mark.parametrize("typed", [True, False])
def test_a_record_gather_made_reads_alike_without_the_check_for_a_resource_sent_twice(typed):
    """gather takes each resource once by (type, id) and says so (PatientRecord.distinct);
    normalise then skips its own check per result, with the same facts as with it."""
    config = Config(allow_unsigned=True)
    plan = build_services(K)["rheum-order-sign"].prefetch
    raw = orjson.dumps(bodies.order_sign_body(600))
    hook_request = parse_hook_request("rheum-order-sign", raw, {}, config, None)
    if not typed:
        hook_request.prefetch.update(orjson.loads(raw)["prefetch"])
    record = gather(hook_request, plan, config, 1e12)
    assert record.distinct
    assert (type(record.observations[0]) is Observation) is typed
    observations = normalise_observations(record.observations, K.vs, distinct=True)
    assert observations == normalise_observations(record.observations, K.vs)
    assert observations[0]["crp"] and observations[0]["tjc28"]
    problems = normalise_conditions(record.conditions, K.vs, distinct=True)
    assert problems == normalise_conditions(record.conditions, K.vs)
    assert problems[0] and problems[1]  # problems and unclassified conditions


def test_too_deep_an_observation_is_a_named_400_as_before():
    """A prefetch Observation nested deeper than the JSON parsers go is refused as before."""
    from cds_service.request import RequestError

    deep = b"[" * 5000 + b"]" * 5000
    prefetch = b'{"observations": {"resourceType": "Bundle", "entry": [{"resource": '
    prefetch += b'{"resourceType": "Observation", "valueCodeableConcept": ' + deep + b"}}]}}"
    body = orjson.dumps(bodies.order_sign_body(None))[:-1] + b', "prefetch": ' + prefetch + b"}"
    with pytest.raises(RequestError) as refused:
        parse_hook_request("rheum-order-sign", body, {}, Config(allow_unsigned=True), None)
    assert refused.value.status == 400 and refused.value.member == "body"


SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def cond(rid: str | None, code: Any = None, **members: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Condition", "subject": {"reference": "P/p"}}
    if rid is not None:
        resource["id"] = rid
    if code is not None:
        resource["code"] = code
    resource.update(members)
    return resource


def cc(system: str, code: Any, display: str | None = None, text: str | None = None):
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    out: dict[str, Any] = {"coding": [coding]}
    if text is not None:
        out["text"] = text
    return out


def status(code: str) -> dict[str, Any]:
    return {"coding": [{"system": CLINICAL, "code": code}]}


CONDITIONS: list[tuple[dict[str, Any], bool]] = [
    (
        cond("ra", cc(SCT, "69896004", "Rheumatoid arthritis"), clinicalStatus=status("active")),
        True,
    ),
    (cond("ra-old", cc(SCT, "69896004"), clinicalStatus=status("resolved")), True),
    (cond("ra-stu3", cc(SCT, "69896004"), clinicalStatus="active"), True),
    (cond("ra-refuted", cc(SCT, "69896004"), verificationStatus="refuted"), True),
    (
        cond(
            "ra-eie",
            cc(SCT, "69896004"),
            verificationStatus={"coding": [{"code": "entered-in-error"}]},
        ),
        True,
    ),
    (cond("tb-abated", cc(SCT, "56717001"), abatementDateTime="2020-02-01"), True),
    (cond("tb-period", cc(SCT, "56717001"), abatementPeriod={"end": "2021-01"}), True),
    (cond("tb-bool", cc(SCT, "56717001"), abatementBoolean=True), True),
    (cond("tb-text-status", cc(SCT, "56717001"), clinicalStatus={"text": "Remission"}), True),
    (  # a status coding's system and display are not read: Active, typed or plain
        cond(
            "ra-status-display",
            cc(SCT, "69896004"),
            clinicalStatus={"coding": [{"system": CLINICAL, "code": "Active", "display": "x"}]},
            verificationStatus={"coding": [{"system": 3, "code": "refuted"}]},
        ),
        True,
    ),
    (
        cond(
            "ra-two-status",
            cc(SCT, "69896004"),
            clinicalStatus={"coding": [{"display": "Resolved"}, {"code": "resolved"}]},
        ),
        True,
    ),
    (cond("status-code-number", cc(SCT, "1"), clinicalStatus={"coding": [{"code": 1}]}), True),
    (
        cond(
            "hbv",
            cc(ICD10, "B18.1", text="Chronic hepatitis B"),
            onsetDateTime="2019-05-02",
            recordedDate="2019-06-01",
        ),
        True,
    ),
    (
        cond("dates", cc(SCT, "69896004"), onsetPeriod={"start": "2018"}, assertedDate="2018-02"),
        True,
    ),
    (cond("dstu2", cc(SCT, "69896004"), onsetString="2017-03-04", dateRecorded="2017"), True),
    (cond("unknown", cc(SCT, "999999999", "Something else")), True),
    (cond("icd-none", cc(ICD10, "J45.909")), True),
    (cond("by-name", {"text": "History of tuberculosis"}), True),
    (cond("display-only", {"coding": [{"display": "Psoriatic arthritis"}]}), True),
    (
        cond(
            "two-codings",
            {"coding": [{"system": SCT, "code": "1"}, {"system": ICD10, "code": "M05.79"}]},
        ),
        True,
    ),
    (cond(None, cc(SCT, "69896004")), True),
    (cond("ra", cc(SCT, "69896004"), clinicalStatus=status("inactive")), True),  # same id
    (cond("no-code"), True),
    # the code and statuses are kept as their JSON text and read by the general readers: any
    # shape of them stays typed
    (cond("status-number", cc(SCT, "69896004"), clinicalStatus=1), True),
    (cond("status-null", cc(SCT, "69896004"), clinicalStatus=None, verificationStatus=None), True),
    (cond("one-coding", {"coding": {"system": SCT, "code": "69896004"}}), True),
    (cond("code-list", [cc(SCT, "69896004")]), True),
    ({**cond("code-null"), "code": None}, True),
    (
        cond(
            "code-members",
            {
                "extension": [{"url": "http://example.org/x", "valueString": "y"}],
                "coding": [
                    {"system": SCT, "version": "http://snomed.info/sct/900000000000207008"}
                    | {"code": "69896004", "userSelected": True},
                ],
            },
            clinicalStatus={"coding": [{"system": CLINICAL, "code": "active"}], "text": "x"},
        ),
        True,
    ),
    # shapes the typed records do not describe: read as plain JSON
    (cond("onset-number", cc(SCT, "69896004"), onsetDateTime=2019), False),
]


def _both_conditions(resources: list[dict[str, Any]]):
    decoded = decode_resource(_bundle(*resources))
    typed = (
        bundle_typed(decoded)
        if isinstance(decoded, TypedBundle)
        else [e["resource"] for e in decoded["entry"]]
    )
    return normalise_conditions(resources, K.vs), normalise_conditions(typed, K.vs), decoded


@pytest.mark.parametrize(("resource", "typed"), CONDITIONS, ids=lambda v: str(v)[:40])
def test_each_condition_shape_gives_the_same_problems_typed_or_plain(resource, typed):
    plain, from_typed, decoded = _both_conditions([resource])
    assert from_typed == plain
    assert isinstance(decoded, TypedBundle) is typed


def test_a_whole_problem_list_gives_the_same_problems_typed_or_plain():
    resources = [r for r, typed in CONDITIONS if typed]
    plain, from_typed, decoded = _both_conditions(resources)
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    assert plain[0] and plain[1]  # problems and unclassified conditions, both


def test_many_codes_and_status_texts_in_one_problem_list_are_each_read_as_plain_json_does():
    """Codes of one text length and status texts beyond the few a chart usually repeats
    (local codes, statuses under other systems): each told apart from the others, the known
    ones wherever they come among them."""

    def coded(system: str, code: str) -> dict[str, Any]:
        return {"coding": [{"system": system, "code": code}]}

    resources = [
        cond(
            f"local-{n}",
            cc(SCT, f"{90000000 + n}"),  # as long as 69896004, unknown
            clinicalStatus=coded(f"http://example.org/c{n}", "active"),
            verificationStatus=coded(f"http://example.org/v{n}", "confirmed"),
        )
        for n in range(12)
    ]
    resources += [
        cond(
            "ra-refuted", cc(SCT, "69896004"), verificationStatus=coded("http://x.org/v", "refuted")
        ),
        cond("ra-old", cc(SCT, "69896004"), clinicalStatus=coded("http://x.org/c", "resolved")),
        cond("ra", cc(SCT, "69896004"), clinicalStatus=coded("http://example.org/c3", "active")),
    ]
    plain, from_typed, decoded = _both_conditions(resources)
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    assert [(p.ref, p.active) for p in plain[0]] == [
        ("Condition/ra-old", False),
        ("Condition/ra", True),
    ]
    assert len(plain[1]) == 12


def test_an_order_reason_naming_a_typed_condition_of_the_record_is_read():
    """reasonReference to a Condition of the record (typed) gives the order's indication."""
    config = Config(allow_unsigned=True)
    plan = build_services(K)["rheum-order-sign"].prefetch
    body = bodies.order_sign_body(60)
    entries = body["prefetch"]["conditions"]["entry"]
    entries.append({"resource": cond("pmr-1", cc(SCT, "65323003"), clinicalStatus="active")})
    draft = body["context"]["draftOrders"]["entry"][0]["resource"]
    draft["reasonReference"] = [{"reference": "Condition/pmr-1"}]
    raw = orjson.dumps(body)
    hook_request = parse_hook_request("rheum-order-sign", raw, {}, config, None)
    record = gather(hook_request, plan, config, 1e12)
    assert any(type(c) is Condition and c.id == "pmr-1" for c in record.conditions)
    orders = recognise_orders(hook_request.draft_orders, K)
    facts = normalise(record, orders, K, date.today())
    assert facts.orders[0].indication_source == "reasonCode"
    assert facts.orders[0].indication == "pmr"


def test_one_code_in_several_units_in_one_chart_reads_each_as_plain_json_does():
    """The typed reading remembers, per chart, how each code and unit is read: a unit that
    converts, one that does not, none at all, and a second coding, each read on its own."""
    resources = [
        obs("1988-5", "a", **q(1.2, "mg/dL")),
        obs("1988-5", "b", **q(9.0, "mg/L")),
        obs("1988-5", "c", **q(9.0, "mmol")),  # not convertible: dropped with the reason
        obs("1988-5", "d", valueQuantity={"value": 3.0}),  # no unit: dropped
        obs("1988-5", "e", **q(2.0, "mg/dL")),
        obs("4537-7", "f", **q(30, "mm/h")),
        obs("4537-7", "g", **q(31, "mm/h"), interpretation=[{"coding": [{"code": "H"}]}]),
    ]
    plain, from_typed, decoded = _both(resources)
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    assert [o.value for o in plain[0]["crp"]] == [20.0, 9.0, 12.0]  # same day: by ref
    assert len(plain[0]["esr"]) == 2 and len(plain[1]) == 2


@pytest.mark.parametrize("first", ["read", "no date", "impossible date", "no value", "text"])
def test_numbers_of_one_code_after_a_first_one_read_otherwise_are_all_read_as_plain_json(first):
    """In a chart of distinct ids (as gather makes it), the numbers of one code and unit are
    listed under their concept as the first of them finds it; when that first one is no plain
    number (no date, an impossible date, no value, a text), each of the next ones is read on
    its own: the same results, the same drops, the concepts listed in the same order as the
    plain reading lists them (ESR before CRP when the first CRP gives none)."""
    head = {
        "read": obs("1988-5", "c0", "2026-10-01", **q(5.0, "mg/L")),
        "no date": obs("1988-5", "c0", None, **q(5.0, "mg/L")),
        "impossible date": obs("1988-5", "c0", "2026-02-30", **q(5.0, "mg/L")),
        "no value": obs("1988-5", "c0", valueQuantity={"code": "mg/L"}),
        "text": obs("1988-5", "c0", valueString="8 mg/L"),
    }[first]
    resources = [
        head,
        obs("4537-7", "e1", "2026-10-02", **q(30, "mm/h")),
        obs("1988-5", "c1", "2026-10-02", **q(6.0, "mg/L")),
        obs("4537-7", "e2", "2026-10-03", **q(31, "mm/h")),
        obs("1988-5", "c2", "2026-10-03", **q(0.7, "mg/dL")),
        obs("1988-5", "c3", "2026-10-04", **q(7.0, "mg/L")),
    ]
    decoded = decode_resource(_bundle(*resources))
    assert isinstance(decoded, TypedBundle)
    plain = normalise_observations(resources, K.vs)
    for distinct in (True, False):
        from_typed = normalise_observations(bundle_typed(decoded), K.vs, distinct=distinct)
        assert from_typed == plain
        assert list(from_typed[0]) == list(plain[0])  # the concepts in the same order
    read_first = {"read": 5.0, "text": 8.0}.get(first)
    assert [o.value for o in plain[0]["crp"]] == [7.0, 7.0, 6.0] + (
        [read_first] if read_first else []
    )
    assert list(plain[0]) == (["crp", "esr"] if read_first else ["esr", "crp"])
    assert len(plain[1]) == (0 if read_first else 1)  # dropped, with its reason


def test_results_without_id_among_typed_ones_are_referenced_by_their_position():
    resources = [
        obs("4537-7", "esr-1", **q(20, "mm/h")),
        obs("1988-5", None, "2026-10-01", **q(1.0, "mg/dL")),
        obs("4537-7", "esr-2", "2026-10-02", **q(21, "mm/h")),
        obs("1988-5", None, "2026-10-02", **q(2.0, "mg/dL")),
    ]
    plain, from_typed, decoded = _both(resources)
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    assert [o.ref for o in plain[0]["crp"]] == ["Observation[3]", "Observation[1]"]


def test_many_codes_of_one_unit_and_text_length_are_each_read_as_plain_json_does():
    """A chart of many distinct codes whose code texts are as long as each other, in one
    unit (local lab codes): each is told apart from the others, the known one wherever it
    comes among them."""
    resources = [obs(f"L-{n:04d}", f"local-{n}", **q(float(n), "mg/dL")) for n in range(12)]
    resources += [obs("1988-5", "crp-first", "2026-10-02", **q(1.0, "mg/dL"))]
    resources += [obs("1988-5", "crp-late", "2026-10-03", **q(3.0, "mg/dL"))]
    resources += [obs(f"L-{n:04d}", f"again-{n}", **q(float(n), "mg/dL")) for n in range(12)]
    resources += [obs("1988-5", "crp-last", "2026-10-04", **q(4.0, "mg/dL"))]
    plain, from_typed, decoded = _both(resources)
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    assert [o.value for o in plain[0]["crp"]] == [40.0, 30.0, 10.0]  # mg/L, newest first


def test_a_search_warning_among_the_entries_keeps_the_bundle_typed_and_is_left_out():
    """EHR searches often end with an OperationOutcome entry ("results may be restricted"),
    with or without search.mode "outcome": the Observations stay typed, the outcome is no
    resource, as in the plain reading."""
    warning = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning"}]}
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": obs("1988-5", "a", **q(1.2, "mg/dL"))},
            {"resource": warning, "search": {"mode": "outcome"}},
            {"resource": obs("1988-5", "b", **q(9.0, "mg/L"))},
            {"resource": warning},
        ],
    }
    decoded = decode_resource(orjson.dumps(bundle))
    assert isinstance(decoded, TypedBundle)
    typed = bundle_typed(decoded)
    assert [type(r) for r in typed] == [Observation, Observation]
    assert [r.id for r in typed] == [r["id"] for r in bundle_resources(bundle)] == ["a", "b"]
    plain = normalise_observations(bundle_resources(bundle), K.vs)
    assert normalise_observations(typed, K.vs) == plain and len(plain[0]["crp"]) == 2


def test_local_codes_named_like_a_concept_are_read_by_name_each_time_as_plain_json_does():
    """A chart's local codes repeat: each result is read by its name (display or text) as
    the plain reading reads it, the same name remembered, another name read afresh."""

    def local(rid: str, code: str, display: str | None, text: str | None = None):
        concept: dict[str, Any] = {"coding": [{"system": "urn:local", "code": code}]}
        if display is not None:
            concept["coding"][0]["display"] = display
        if text is not None:
            concept["text"] = text
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": concept,
            "effectiveDateTime": f"2026-10-0{rid[-1]}",
            **q(5.0, "ug/mL"),
        }

    resources = [
        local("ab1", "L1", "Infliximab antibody"),
        local("hr1", "L2", "Pulse"),
        local("ab2", "L1", "Infliximab antibody"),
        local("hr2", "L2", "Pulse"),
        local("ab3", "L3", "Pulse", text="Anti-infliximab antibody"),  # the text names it
        local("hr3", "L2", "Pulse", text="Heart rate"),
        local("ab4", "L4", None, text="Infliximab antibody"),
    ]
    plain, from_typed, decoded = _both(resources)
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    read = [o.ref for values in plain[0].values() for o in values] + [d.ref for d in plain[1]]
    assert sorted(read) == [f"Observation/ab{i}" for i in (1, 2, 3, 4)]
    assert all(o.by_name for values in plain[0].values() for o in values)


def _variants() -> list[dict[str, Any]]:
    usual = bodies.order_sign_body(60)
    out = [usual]

    def changed(change: Any) -> dict[str, Any]:
        body = orjson.loads(orjson.dumps(usual))
        change(body["prefetch"])
        out.append(body)
        return body

    changed(lambda p: p.update(extra={"resourceType": "Patient", "id": "p2"}))  # undeclared key
    changed(lambda p: p.update(observations=None))
    changed(lambda p: p.pop("patient"))
    changed(lambda p: p.update(medicationRequests=p.pop("observations")))  # under another key
    changed(lambda p: p.update(observations=[p["observations"]["entry"][0]["resource"]]))
    odd = changed(lambda p: None)
    odd["prefetch"]["conditions"]["entry"][0]["resource"]["code"]["coding"] = {"code": "x"}
    nulled = orjson.loads(orjson.dumps(usual))
    nulled["prefetch"] = None
    return [*out, nulled]


@pytest.mark.parametrize("body", _variants())
def test_a_prefetch_of_other_keys_or_shapes_reads_as_the_two_pass_reading(body):
    """The usual call is read in one pass; every other outline gives the very same values
    (typed where the typed shape holds, plain JSON elsewhere, keys absent stay absent)."""
    raw = orjson.dumps(body)
    one, two = fhir_json.decode_hook_body(raw), fhir_json._two_passes(raw)
    plain = fhir_json.raw_json
    assert msgspec.to_builtins(one, enc_hook=plain) == msgspec.to_builtins(two, enc_hook=plain)
    assert {k: type(v) for k, v in (one.get("prefetch") or {}).items()} == {
        k: type(v) for k, v in (two.get("prefetch") or {}).items()
    }
    sent = body.get("prefetch")
    assert (one["prefetch"] is None) if sent is None else set(one["prefetch"]) == set(sent)


def test_the_usual_call_is_read_in_one_pass():
    """The services' own prefetch keys are those the one-pass reading types."""
    keys = tuple(item.key for item in build_services(K)["rheum-order-sign"].prefetch)
    assert keys == fhir_json._PREFETCH_KEYS
    raw = orjson.dumps(bodies.order_sign_body(60))
    assert type(fhir_json._one_pass_decoder.decode(raw).prefetch.observations) is TypedBundle


def test_a_code_the_terminology_learns_is_read_anew_though_it_was_unknown_before():
    """Typed Condition codes are remembered across calls only while no code has been learnt
    from the institution's terminology: once one is, a code unknown before is read again."""
    vs = replace(K.vs, cond_terminology={}, _coding_cache={}, _text_cache={})
    local = cond("local", cc(SCT, "999999991", "Local arthritis entry"))
    decoded = decode_resource(_bundle(local))
    assert isinstance(decoded, TypedBundle)
    typed = bundle_typed(decoded)
    problems, unclassified = normalise_conditions(typed, vs)
    assert not problems and [u.ref for u in unclassified] == ["Condition/local"]
    ra = K.vs.condition_concept(SCT, "69896004")
    assert ra is not None
    vs.cond_terminology[(vs.systems.family(SCT), "999999991")] = frozenset({ra})
    problems, unclassified = normalise_conditions(typed, vs)
    assert [p.ref for p in problems] == ["Condition/local"] and not unclassified
    assert ra in problems[0].concepts


def test_a_long_code_text_is_read_but_not_remembered_across_calls():
    """Codes are remembered across calls by their JSON text, except texts longer than
    MEMO_LONGEST: read each time, so a sender cannot fill the memos with megabytes."""
    vs = replace(K.vs, _coding_cache={}, _text_cache={})
    long_code = {"coding": [{"system": LOINC, "code": "1988-5"}], "text": "C" * 5000}
    long_obs = {**obs("1988-5", "long", **q(2.0, "mg/dL")), "code": long_code}
    long_cond = cond("long-cond", {**cc(SCT, "69896004"), "text": "R" * 5000})
    decoded = decode_resource(_bundle(long_obs, obs("1988-5", "short", **q(3.0, "mg/dL"))))
    found, _ = normalise_observations(bundle_typed(decoded), vs)
    assert sorted(o.ref for o in found["crp"]) == ["Observation/long", "Observation/short"]
    problems, _ = normalise_conditions(bundle_typed(decode_resource(_bundle(long_cond))), vs)
    assert [p.ref for p in problems] == ["Condition/long-cond"]
    remembered = [k for k in vs._coding_cache if k[0] in ("obs-code", "obs-read", "cond-code")]
    assert remembered and all(len(k[1]) < 5000 for k in remembered)  # the short one only


def test_a_number_under_the_id_of_a_result_dropped_before_is_not_read_again():
    """The first result under an id is the one read, typed as plain: a result dropped by
    the general readers keeps a later number under the same id out, whoever reads it."""
    dropped = obs("1988-5", "same", "2026-07-01", valueString="lipaemic")
    number = obs("1988-5", "same", "2026-09-01", **q(5.0, "mg/L"))
    other = obs("1988-5", "other", "2026-09-02", **q(6.0, "mg/L"))
    plain, from_typed, decoded = _both([dropped, number, other])
    assert isinstance(decoded, TypedBundle)
    assert from_typed == plain
    assert [o.ref for o in from_typed[0]["crp"]] == ["Observation/other"]


# --------------------------------------------------------------------------- MedicationRequest

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
MTX = {"coding": [{"system": RXNORM, "code": "105586"}], "text": "methotrexate 2.5 MG Oral Tablet"}
WEEKLY = [
    {
        "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}},
        "doseAndRate": [{"doseQuantity": {"value": 6, "unit": "tablet"}}],
    }
]


def order(rid: str | None, **members: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": MTX,
        "authoredOn": "2026-10-06",
        "dosageInstruction": WEEKLY,
    }
    if rid is not None:
        resource["id"] = rid
    resource.update(members)
    return {k: v for k, v in resource.items() if v is not _ABSENT}


_ABSENT = object()
PRED = {"text": "prednisolone 5 mg tablet"}
ORDERS = [
    (order("usual"), True),
    (order("usual"), True),  # the same id again: read once
    (order(None), True),
    (order("no-dosage", dosageInstruction=_ABSENT), True),
    (order("dosage-null", dosageInstruction=None), True),
    (order("stopped", status="stopped"), True),
    (order("eie", status="entered-in-error"), True),
    (order("odd-status", status=" Active "), True),
    (order("status-null", status=None), True),
    (order("no-status", status=_ABSENT), True),
    (order("drug-null", medicationCodeableConcept=None), True),
    (order("unknown-drug", medicationCodeableConcept={"text": "a drug nobody knows"}), True),
    (order("steroid", medicationCodeableConcept=PRED, dosageInstruction=[{"text": "some"}]), True),
    (
        order("two", medicationCodeableConcept={"text": "isoniazid 300 mg + rifampicin 600 mg"}),
        True,
    ),
    (order("no-date", authoredOn=_ABSENT, dateWritten="2026-09-01"), True),
    (order("bad-date", authoredOn="06/10/2026", effectiveDateTime="2026-09-02"), True),
    (order("date-null", authoredOn=None), True),
    (
        order(
            "contained",
            medicationCodeableConcept=_ABSENT,
            medicationReference={"reference": "#m"},
            contained=[{"resourceType": "Medication", "id": "m", "code": MTX}],
        ),
        True,
    ),
    (order("r5", medicationCodeableConcept=_ABSENT, medication={"concept": MTX}), True),
    (order("dstu2-dosage", dosageInstruction=_ABSENT, dosage=WEEKLY), True),
    (order("not-taken", wasNotTaken=True), True),
    # shapes the typed records do not describe: read as plain JSON
    (order("status-concept", status={"coding": [{"code": "active"}]}), False),
    ({**order("dstu2"), "resourceType": "MedicationOrder"}, False),
]


def _both_orders(resources: list[dict[str, Any]]):
    decoded = decode_resource(_bundle(*resources))
    typed = (
        bundle_typed(decoded)
        if isinstance(decoded, TypedBundle)
        else [e["resource"] for e in decoded["entry"]]
    )
    plain = normalise_medications(resources, [], K.vs)
    return plain, normalise_medications(typed, [], K.vs), decoded


@pytest.mark.parametrize(("resource", "typed"), ORDERS, ids=lambda v: str(v)[:40])
def test_each_order_shape_gives_the_same_medications_typed_or_plain(resource, typed):
    plain, from_typed, decoded = _both_orders([resource])
    assert from_typed == plain
    assert isinstance(decoded, TypedBundle) is typed


def test_a_whole_order_list_gives_the_same_medications_typed_or_plain():
    """Every typed shape in one Bundle (repeat orders read once per text, the same id read
    once), then the same again under other ids: the same medications and dropped doses."""
    resources = [r for r, typed in ORDERS if typed]
    resources += [{**r, "id": f"again-{i}"} for i, r in enumerate(resources) if "id" in r]
    plain, from_typed, decoded = _both_orders(resources)
    assert isinstance(decoded, TypedBundle)
    assert all(type(r) is MedicationRequest for r in bundle_typed(decoded))
    assert from_typed == plain
    meds, dropped = plain
    assert {m.drug for m in meds} >= {"methotrexate", "prednisolone", "isoniazid", "rifampicin"}
    assert [m.ref for m in meds].count("MedicationRequest/usual") == 1
    assert dropped  # the steroid whose dose is not readable


def test_a_medication_included_with_a_typed_order_is_read_as_its_drug():
    """An order naming a Medication that came with another search (`_include`) is read
    through it, typed or plain alike."""
    config = Config(allow_unsigned=True)
    plan = build_services(K)["rheum-order-sign"].prefetch
    body = bodies.order_sign_body(60)
    medication = {"resourceType": "Medication", "id": "m1", "code": MTX}
    named = order("by-ref", medicationCodeableConcept=_ABSENT)
    named["medicationReference"] = {"reference": "Medication/m1"}
    body["prefetch"]["medicationRequests"]["entry"] = [{"resource": named}]
    body["prefetch"]["medications"] = {
        "resourceType": "Bundle",
        "entry": [{"resource": medication}],
    }
    raw = orjson.dumps(body)
    hook_request = parse_hook_request("rheum-order-sign", raw, {}, config, None)
    assert type(hook_request.prefetch["medicationRequests"]) is TypedBundle
    record = gather(hook_request, plan, config, 1e12)
    plain_request = parse_hook_request("rheum-order-sign", raw, {}, config, None)
    plain_request.prefetch.update(orjson.loads(raw)["prefetch"])
    plain_record = gather(plain_request, plan, config, 1e12)
    meds = normalise_medications(record.medication_requests, [], K.vs)
    assert meds == normalise_medications(plain_record.medication_requests, [], K.vs)
    assert [m.drug for m in meds[0]] == ["methotrexate"]
