"""Clinical points of the knowledge through the HTTP app, from FHIR resources as EHRs send
them: latent-TB treatment drugs mark latent TB as treated."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.service import samples

PID = samples.PATIENT_ID
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"


def _obs(oid: str, code: str, when: str = "2026-11-02", **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "subject": {"reference": f"Patient/{PID}"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": when,
        **value,
    }


POSITIVE_IGRA = _obs(
    "o-igra",
    "71773-6",
    valueCodeableConcept={"coding": [{"system": SCT, "code": "10828004", "display": "Positive"}]},
)


def _statement(medication: dict[str, Any], status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": "ms-ltbi",
        "status": status,
        "subject": {"reference": f"Patient/{PID}"},
        "effectiveDateTime": "2026-10-15",
        "medicationCodeableConcept": medication,
    }


def _cards(app, *, observations=(), medications=(), language="en"):
    prefetch = samples.full_prefetch()
    prefetch["observations"] = samples.searchset(
        copy.deepcopy(samples.CRP), *copy.deepcopy(list(observations))
    )
    prefetch["medicationRequests"] = samples.searchset(*copy.deepcopy(list(medications)))
    body = samples.order_sign(prefetch=prefetch)
    response = app.test_client().post(
        "/cds-services/rheum-order-sign", json=body, headers={"Accept-Language": language}
    )
    assert response.status_code == 200, response.json
    return response.json["cards"]


def _fired(cards) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for c in cards for f in c["extension"]["org.rheum-cds"].get("findings", [])}


def test_positive_igra_without_treatment_says_treat_latent_tb_first(app):
    cards = _cards(app, observations=[POSITIVE_IGRA])
    assert "JAKI-TB-SCREEN" in _fired(cards)
    assert "treat latent TB" in "\n".join(c["detail"] for c in cards)


@pytest.mark.parametrize(
    "medication",
    [
        {"coding": [{"system": RX, "code": "6038", "display": "isoniazid"}]},
        {"coding": [{"system": ATC, "code": "J04AC01"}]},
        {"coding": [{"system": ATC, "code": "J04AM02"}], "text": "Rifinah"},
        {"coding": [{"system": RX, "code": "312821"}]},
        {"text": "rifapentine 150 MG Oral Tablet [Priftin]"},
        {"text": "イソニアジド錠100mg「JG」"},
        {"text": "异烟肼片 0.1g"},
    ],
)
def test_positive_igra_on_latent_tb_treatment_is_not_told_to_treat_it(app, medication):
    cards = _cards(app, observations=[POSITIVE_IGRA], medications=[_statement(medication)])
    assert "JAKI-TB-SCREEN" not in _fired(cards)
    assert "treat latent TB" not in "\n".join(c["detail"] for c in cards)


def test_a_stopped_isoniazid_course_does_not_count_as_treatment(app):
    isoniazid = {"coding": [{"system": RX, "code": "6038", "display": "isoniazid"}]}
    cards = _cards(
        app, observations=[POSITIVE_IGRA], medications=[_statement(isoniazid, "stopped")]
    )
    assert "JAKI-TB-SCREEN" in _fired(cards)


# ------------------------------------------------------- ANC / ALC from WBC and differential


def _count(oid: str, code: str, value: float, unit: str, when: str = "2026-11-02"):
    return _obs(
        oid,
        code,
        when,
        valueQuantity={
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    )


WBC = _count("o-wbc", "6690-2", 2.0, "10*3/uL")
NEUTROPHIL_PCT = _count("o-neut", "770-8", 40, "%")
LYMPHOCYTE_PCT = _count("o-lymph", "736-9", 20, "%")


@pytest.mark.parametrize(
    ("language", "anc_line"),
    [
        ("en", "ANC: 800 /µL (2026-11-02) (derived: WBC 2 ×10³/µL × 40 %)"),
        ("ja", "好中球数：800 /µL（2026-11-02）（算出値：白血球数 2 ×10³/µL × 40 %）"),
    ],
)
def test_anc_and_alc_derived_from_wbc_and_percentages_are_judged_and_shown_as_derived(
    app, language, anc_line
):
    cards = _cards(app, observations=[WBC, NEUTROPHIL_PCT, LYMPHOCYTE_PCT], language=language)
    fired = _fired(cards)
    assert fired["JAKI-LAB-ANC"]["evidence"][0]["value"] == 800
    assert fired["JAKI-LAB-ANC"]["evidence"][0]["derivedFrom"] == [
        {"label": "wbc", "value": 2.0, "unit": "10*3/uL"},
        {"label": "percent", "value": 40.0, "unit": "%"},
    ]
    assert fired["JAKI-LAB-ALC"]["evidence"][0]["value"] == 400
    assert anc_line in "\n".join(c["detail"] for c in cards)


def test_a_percentage_without_a_same_day_white_count_is_not_guessed(app):
    other_day = _count("o-wbc", "6690-2", 2.0, "10*3/uL", when="2026-10-01")
    cards = _cards(app, observations=[other_day, NEUTROPHIL_PCT])
    assert "JAKI-LAB-ANC" not in _fired(cards)
    not_assessed = {
        n["id"] for c in cards for n in c["extension"]["org.rheum-cds"].get("notAssessed", [])
    }
    assert "JAKI-LAB-ANC" in not_assessed


def test_a_measured_absolute_count_of_the_day_wins_over_the_derived_one(app):
    measured = _count("o-anc", "751-8", 3.1, "10*3/uL")
    cards = _cards(app, observations=[WBC, NEUTROPHIL_PCT, measured])
    assert "JAKI-LAB-ANC" not in _fired(cards)


# ------------------------------------------- anti-infliximab antibodies without an institution code

INFLIXIMAB = {
    "resourceType": "MedicationRequest",
    "id": "draft-ifx",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": f"Patient/{PID}"},
    "medicationCodeableConcept": {
        "coding": [{"system": RX, "code": "191831", "display": "infliximab"}],
        "text": "infliximab 100 mg vial",
    },
    "dosageInstruction": [
        {
            "timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "wk"}},
            "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg/kg", "code": "mg/kg"}}],
        }
    ],
}


def _antibody(value: float, unit: str, display: str) -> dict[str, Any]:
    # a code the service does not know (the LOINC numbers of these terms could not be
    # confirmed), with the LOINC long common name as display
    return {
        "resourceType": "Observation",
        "id": "o-ati",
        "status": "final",
        "subject": {"reference": f"Patient/{PID}"},
        "code": {
            "coding": [
                {"system": "http://lab.example.org/codes", "code": "ATI-1", "display": display}
            ]
        },
        "effectiveDateTime": "2026-11-02",
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


def _ifx_cards(app, *observations, language="en"):
    prefetch = samples.full_prefetch()
    prefetch["observations"] = samples.searchset(*copy.deepcopy(list(observations)))
    body = samples.order_sign(INFLIXIMAB, prefetch=prefetch)
    response = app.test_client().post(
        "/cds-services/rheum-order-sign", json=body, headers={"Accept-Language": language}
    )
    assert response.status_code == 200, response.json
    return response.json["cards"]


def test_anti_infliximab_antibody_recognised_by_its_name_is_judged_and_said_so(app):
    cards = _ifx_cards(
        app, _antibody(120, "ug/L", "Infliximab Ab [Mass/volume] in Serum or Plasma")
    )
    finding = _fired(cards)["IFX-ADA"]
    assert finding["evidence"][0]["value"] == 120
    detail = "\n".join(c["detail"] for c in cards)
    assert "(recognised by name)" in detail


def test_anti_infliximab_antibody_in_assay_units_is_shown_not_judged(app):
    cards = _ifx_cards(
        app, _antibody(120, "U/mL", "Infliximab Ab [Units/volume] in Serum or Plasma")
    )
    assert "IFX-ADA" not in _fired(cards)
    not_assessed = {
        n["id"]: n["missing"]
        for c in cards
        for n in c["extension"]["org.rheum-cds"].get("notAssessed", [])
    }
    assert "U/mL" in not_assessed["IFX-ADA"]


def test_an_unrelated_result_name_is_not_an_antibody(app):
    cards = _ifx_cards(app, _antibody(120, "ug/L", "Infliximab [Mass/volume] in Serum or Plasma"))
    assert "IFX-ADA" not in _fired(cards)


APS = {
    "resourceType": "Condition",
    "id": "c-aps",
    "subject": {"reference": f"Patient/{PID}"},
    "clinicalStatus": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active",
            }
        ]
    },
    "code": {
        "coding": [
            {
                "system": "http://hl7.org/fhir/sid/icd-10-cm",
                "code": "D68.61",
                "display": "Antiphospholipid syndrome",
            }
        ]
    },
}


@pytest.mark.parametrize(
    ("language", "said", "not_said"),
    [
        ("en", "thrombophilia", "inherited thrombophilia"),
        ("ja", "血栓性素因", "先天性血栓性素因"),
        ("zh-TW", "易栓症", "遺傳性易栓症"),
    ],
)
def test_antiphospholipid_syndrome_is_a_vte_risk_factor_not_called_inherited(
    app, language, said, not_said
):
    prefetch = samples.full_prefetch()
    prefetch["conditions"] = samples.searchset(copy.deepcopy(samples.RA), copy.deepcopy(APS))
    body = samples.order_sign(prefetch=prefetch)
    response = app.test_client().post(
        "/cds-services/rheum-order-sign", json=body, headers={"Accept-Language": language}
    )
    assert response.status_code == 200, response.json
    vte = _fired(response.json["cards"]).get("JAKI-VTE-RISK")
    assert vte is not None  # an acquired thrombophilia is a VTE risk factor all the same
    text = " ".join(c["detail"] for c in response.json["cards"])
    assert said in text
    assert not_said not in text
