"""Garbage in, never a 5xx out: generated hook requests and FHIR resources (issue 8 §4).

Each generated request goes through the real application (auth in unsigned mode, parsing,
gathering from prefetch, normalise, assess, render). A 4xx must name the problem; a 200 must
carry valid cards.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.outcome import diagnostics
from tests.cards.helpers import assert_valid_card
from tests.reliability.conftest import PROFILE

SIGN = "/cds-services/rheum-order-sign"

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.sampled_from(
        [
            "",
            "\u200b",
            "Patient/",
            "{{context.patientId}}",
            "localhost:8080",
            "\u2011",
            "ＴＯＦＡ",
            "托法替布",
            "<html>",
            "mg",
            "10*9/L",
            "NaN",
        ]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _valid_body() -> dict[str, Any]:
    return {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/1",
            "patientId": "p1",
            "draftOrders": {
                "resourceType": "Bundle",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "MedicationRequest",
                            "id": "d1",
                            "status": "draft",
                            "intent": "order",
                            "medicationCodeableConcept": {"text": "tofacitinib 5 mg tablet"},
                            "dosageInstruction": [
                                {
                                    "timing": {
                                        "repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}
                                    },
                                    "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}],
                                }
                            ],
                        }
                    }
                ],
            },
        },
        "prefetch": {
            "patient": {
                "resourceType": "Patient",
                "id": "p1",
                "birthDate": "1950-02-03",
                "gender": "female",
            },
            "observations": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Observation",
                            "id": "o1",
                            "status": "final",
                            "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
                            "effectiveDateTime": "2026-10-01",
                            "valueQuantity": {"value": 12, "unit": "mg/L"},
                        }
                    }
                ],
            },
            "conditions": None,
            "medicationRequests": None,
            "immunizations": None,
        },
    }


# Paths into the valid body that a mutation may replace, delete or stuff.
PATHS: list[tuple[Any, ...]] = [
    ("hook",),
    ("hookInstance",),
    ("context",),
    ("context", "patientId"),
    ("context", "draftOrders"),
    ("context", "draftOrders", "entry"),
    ("context", "draftOrders", "entry", 0, "resource"),
    ("context", "draftOrders", "entry", 0, "resource", "dosageInstruction"),
    ("context", "draftOrders", "entry", 0, "resource", "medicationCodeableConcept"),
    ("prefetch",),
    ("prefetch", "patient"),
    ("prefetch", "patient", "birthDate"),
    ("prefetch", "observations"),
    ("prefetch", "observations", "entry"),
    ("prefetch", "observations", "entry", 0, "resource", "valueQuantity"),
    ("prefetch", "observations", "entry", 0, "resource", "valueQuantity", "value"),
    ("prefetch", "observations", "entry", 0, "resource", "valueQuantity", "unit"),
    ("prefetch", "observations", "entry", 0, "resource", "effectiveDateTime"),
    ("prefetch", "observations", "entry", 0, "resource", "code"),
    ("prefetch", "conditions"),
    ("fhirServer",),
    ("fhirAuthorization",),
    ("extension",),
]


def _set(body: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    target = body
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    db = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.db"
    app = create_app(Config(storage_url=f"sqlite:///{db}", allow_unsigned=True))
    return app.test_client()


def _check(response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    body = response.get_json(silent=True)
    if response.status_code == 412:  # CDS Hooks: an OperationOutcome that says what is missing
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["diagnostics"]
    elif 400 <= response.status_code < 500 and response.status_code != 401:
        assert isinstance(body, dict) and diagnostics(body), "a 4xx must name the problem"
    if response.status_code == 200:
        assert isinstance(body, dict) and isinstance(body.get("cards"), list)
        for card in body["cards"]:
            assert_valid_card(card)


@settings(settings.get_profile(PROFILE))
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(PATHS), json_values, st.booleans()), min_size=1, max_size=4
    )
)
def test_bad_input_mutated_hook_requests_never_5xx(client, mutations) -> None:  # type: ignore[no-untyped-def]
    body = _valid_body()
    for path, value, delete in mutations:
        try:
            _set(body, path, copy.deepcopy(value), delete)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the parent
    raw = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    _check(client.post(SIGN, data=raw, content_type="application/json"))


observation = st.fixed_dictionaries(
    {
        "resourceType": st.just("Observation"),
        "id": st.sampled_from(["o1", "o1", "o2", ""]),  # duplicate ids on purpose
        "status": st.sampled_from(["final", "amended", "entered-in-error", "cancelled", "x"]),
        "code": st.fixed_dictionaries(
            {
                "coding": st.lists(
                    st.fixed_dictionaries(
                        {
                            "system": st.sampled_from(["http://loinc.org", "urn:oid:1.2", ""]),
                            "code": st.sampled_from(
                                [
                                    "1988-5",
                                    "4537-7",
                                    "88981-6",
                                    "751-8",
                                    "718-7",
                                    "98979-8",
                                    "5196-1",
                                    "72166-2",
                                    "39156-5",
                                    "777-3",
                                    "zzz",
                                ]
                            ),
                        }
                    ),
                    max_size=2,
                )
            }
        ),
        "valueQuantity": st.fixed_dictionaries(
            {
                "value": st.floats(allow_nan=False)
                | st.integers(-(10**12), 10**12)
                | st.text(max_size=5),
                "unit": st.sampled_from(
                    [
                        "mg/L",
                        "mg/dL",
                        "mmol/L",
                        "",
                        "10*9/L",
                        "/uL",
                        "%",
                        "cm",
                        "mm",
                        "g/L",
                        "km",
                        "陽性",
                    ]
                ),
            }
        ),
        "effectiveDateTime": st.sampled_from(
            [
                "2026-10-01",
                "2026-13-45",
                "",
                "yesterday",
                "2026",
                "2026-10-01T25:00:00Z",
                "9999-12-31",
            ]
        ),
    },
)


@settings(settings.get_profile(PROFILE))
@given(observations=st.lists(observation, max_size=12))
def test_bad_input_generated_fhir_observations_never_5xx(client, observations) -> None:  # type: ignore[no-untyped-def]
    body = _valid_body()
    body["prefetch"]["observations"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": o} for o in observations],
    }
    _check(client.post(SIGN, data=orjson.dumps(body), content_type="application/json"))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'"text"',
        b'{"hook": NaN}',
        b"\xff\xfe\x00",
        b'{"hook": "order-sign", "context": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        orjson.dumps({"hook": "order-sign", "hookInstance": "x" * 100_000, "context": {}}),
    ],
    ids=["empty", "truncated", "array", "null", "string", "nan", "binary", "deep", "huge"],
)
def test_bad_input_raw_bodies_get_a_named_4xx(client, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    response = client.post(SIGN, data=raw, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert diagnostics(response.get_json())


def test_bad_input_absurd_values_are_not_read_as_normal(client) -> None:  # type: ignore[no-untyped-def]
    """An ANC of -5 or 1e300 must never silence the lab rules: they show as not assessed."""
    body = _valid_body()
    body["prefetch"]["observations"]["entry"] = [
        {
            "resource": {
                "resourceType": "Observation",
                "id": f"o{i}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
                "effectiveDateTime": "2026-11-01",
                "valueQuantity": {"value": v, "unit": "10*3/uL"},
            }
        }
        for i, v in enumerate([-5, 1e300])
    ]
    response = client.post(SIGN, data=orjson.dumps(body), content_type="application/json")
    assert response.status_code == 200
    not_assessed = {
        item["id"]
        for card in response.get_json()["cards"]
        for item in card.get("extension", {}).get("org.rheum-cds", {}).get("notAssessed", [])
    }
    assert "JAKI-LAB-ANC" in not_assessed
