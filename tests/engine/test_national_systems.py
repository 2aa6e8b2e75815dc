"""National code-system URIs reduce to their family (Taiwan TW Core, Japan JP Core, China's
ICD-10 editions), and every coding of a Condition counts (SPEC.md section 6)."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise, recognise_orders

K = load_knowledge()
TODAY = date(2026, 11, 23)
TW_ICD_2023 = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/icd-10-cm-2023-tw"
TW_ICD_2021 = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/icd-10-cm-2021-tw"
TW_ATC = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/medcation-atc-tw"
JP_ICD = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full"
CN_ICD = "urn:oid:2.16.156.10011.2.3.3.11"
SCT = "http://snomed.info/sct"


def concepts(*codings: tuple[str, str]) -> set[str]:
    resource = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"coding": [{"system": s, "code": c} for s, c in codings]},
    }
    facts = normalise(PatientRecord(patient_id="p", conditions=[resource]), [], K, TODAY)
    return set().union(*(p.concepts for p in facts.problems))


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (TW_ICD_2023, "M05.79", {"ra"}),
        (TW_ICD_2021, "I82.401", {"dvt"}),
        (JP_ICD, "M069", {"ra"}),
        (CN_ICD, "M05.900x001", {"ra"}),  # 国家临床版 extension of a WHO category
        (CN_ICD, "M06.9", {"ra"}),
        ("http://hl7.org/fhir/sid/icd-10-de", "M05.80", {"ra"}),
    ],
)
def test_national_icd10_editions_are_icd10(system, code, expected):
    assert expected <= concepts((system, code))


@pytest.mark.parametrize(
    "system",
    [
        "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/icd-10-pcs-2023-tw",
        "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/icd-9-cm-2001-tw",
    ],
)
def test_procedure_and_icd9_systems_are_not_icd10(system):
    assert K.vs.systems.family(system).startswith("local:")


def test_every_coding_counts_an_unknown_snomed_code_beside_a_known_icd10_code():
    assert concepts((SCT, "999999001"), (TW_ICD_2023, "M05.79")) == {"ra"}
    # and the concepts of all codings are united
    assert {"ra", "ild"} <= concepts((SCT, "69896004"), (JP_ICD, "J84.1"))


def test_tw_core_atc_system_recognises_the_drug():
    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": TW_ATC, "code": "L04AF01"}]},
    }
    (order,) = recognise_orders([draft], K, None)
    assert order.drug == "tofacitinib"


def test_lab_and_drug_systems_of_japan_and_taiwan_have_their_families():
    family = K.vs.systems.family
    assert family("urn:oid:1.2.392.200119.4.504") == "jlac10"
    assert family("http://medis.or.jp/CodeSystem/master-JLAC10-17digits") == "jlac10"
    assert family("https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/medication-nhi-tw") == (
        "tw_nhi_drug"
    )
    assert family("http://medis.or.jp/CodeSystem/master-HOT9") == "jp_hot"


def test_taiwan_nhi_laboratory_items_are_read_as_results():
    nhi = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/medical-service-payment-tw"

    def lab(rid: str, code: str, **value) -> dict:
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": {"coding": [{"system": nhi, "code": code}]},
            "effectiveDateTime": "2026-11-20",
            **value,
        }

    record = PatientRecord(
        patient_id="p",
        observations=[
            lab("cr", "09015C", valueQuantity={"value": 0.9, "unit": "mg/dL"}),
            lab("alt", "09026C", valueQuantity={"value": 30, "unit": "U/L"}),
            lab("hbs", "14032C", valueString="陰性"),
            lab("dc", "08013C", valueQuantity={"value": 60, "unit": "%"}),  # differential: not read
        ],
    )
    obs = normalise(record, [], K, TODAY).observations
    assert obs["creatinine"][0].value == 0.9 and obs["alt"][0].value == 30
    assert obs["hbsag"][0].interpretation == "negative"
    assert "anc" not in obs and "alc" not in obs
