"""The ICD-10 code forms Japanese and Taiwanese charts send: JP Core's ICD-10 2013 codes without
a dot ("C189", "M069"), full-width ("Ｃ１８．９"), TW Core's ICD-10-CM without dots ("I2699",
"I82401"). A form that is not an ICD-10 code (a MEDIS 病名交換コード or a range sent under the
ICD-10 system) is unclassified, counted and "not assessed", never known to be no risk."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise

K = load_knowledge()
JP = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full"
TW = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/icd-10-cm-2023-tw"


def _facts(system: str, code: str):
    resource = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"coding": [{"system": system, "code": code}]},
    }
    return normalise(PatientRecord(patient_id="p", conditions=[resource]), [], K, date(2026, 12, 5))


@pytest.mark.parametrize(
    ("system", "code", "concept"),
    [
        (JP, "C189", "malignancy"),
        (JP, "Ｃ１８．９", "malignancy"),
        (JP, "Ｃ１８９", "malignancy"),
        (JP, "c18.9", "malignancy"),
        (JP, "M069", "ra"),
        (JP, "Ｍ０６９", "ra"),
        (JP, "I802", "dvt"),
        (JP, "Ｂ０２９", "herpes_zoster"),
        (JP, "A159", "tb_active"),
        (TW, "I2699", "pe"),
        (TW, "i2699", "pe"),
        (TW, "I82401", "dvt"),
        (TW, "Ｉ８２４０１", "dvt"),
        (TW, "M0579", "ra"),
        (TW, "Z3A20", "pregnancy"),
    ],
)
def test_dotless_full_width_and_lower_case_forms_are_read_as_codes(system, code, concept):
    (problem,) = _facts(system, code).problems
    assert concept in problem.concepts


@pytest.mark.parametrize(
    "code",
    [
        "G6KM",  # 4-character MEDIS disease exchange codes sent under the ICD-10 system
        "E9KJ",
        "R0RV",
        "A00-B99",  # a range of categories, not a code
        "C00－D48",
        "ICD10:C18.9",
        "結腸癌",
    ],
)
def test_a_form_that_is_no_icd10_code_is_unclassified_never_none(code):
    facts = _facts(JP, code)
    assert not facts.problems
    assert len(facts.unclassified_conditions) == 1, "an unknown form is counted, not 'no risk'"


@pytest.mark.parametrize("code", ["K358", "Ｋ３５．８", "U07.1", "K35.800x001", "R509"])
def test_a_well_formed_code_outside_every_concept_is_known_to_be_none(code):
    facts = _facts(JP, code)
    assert not facts.problems and not facts.unclassified_conditions
