"""Assessments built directly from the model dataclasses, as the engine would give them.

The values follow SPEC.md: they are what a rule would report, so the rendering tests check
that the facts reach the text (drug, score value, rule ids) in every language.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

from cds_service import knowledge as knowledge_pkg
from cds_service.knowledge.citations import compact_citation, label_key
from cds_service.model import (
    Assessment,
    Evidence,
    Finding,
    NotAssessed,
    Order,
    Score,
    Suggestion,
    Unavailable,
)

# Citations as the knowledge loader makes them from sources.toml, and as a label rule names its
# label (labels.toml): the texts a finding carries.
_KNOWLEDGE = Path(knowledge_pkg.__file__).parent
_SOURCES = tomllib.loads((_KNOWLEDGE / "sources.toml").read_text(encoding="utf-8"))
_LABELS = tomllib.loads((_KNOWLEDGE / "labels.toml").read_text(encoding="utf-8"))
PRAC = compact_citation(_SOURCES["ema-prac-2022"])
ORAL = compact_citation(_SOURCES["ytterberg-2022"])
CHENG = compact_citation(_SOURCES["cheng-2022"])
LABELS = compact_citation(_SOURCES["jaki-labels"])
XELJANZ_SMPC = label_key(_LABELS["tofacitinib"]["EU"], "EU")
ACR = compact_citation(_SOURCES["bass-2023"])
ST_CLAIR = compact_citation(_SOURCES["st-clair-2002"])
REMICADE = compact_citation(_SOURCES["remicade-jp"])

TOFA_DRAFT = {
    "resourceType": "MedicationRequest",
    "id": "draft-tofa",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": "Patient/p1"},
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1357536"}],
        "text": "tofacitinib 10 mg tablet",
    },
    "dosageInstruction": [
        {
            "text": "10 mg twice daily",
            "route": {"text": "oral"},
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg"}}],
        }
    ],
}

TOFA = Order(
    drug="tofacitinib",
    drug_class="jaki",
    ref="MedicationRequest/draft-tofa",
    resource=TOFA_DRAFT,
    dose_mg=10,
    per_day=2,
    route="oral",
    indication="ra",
    display="tofacitinib 10 mg tablet",
)

IFX = Order(
    drug="infliximab",
    drug_class="biologic",
    ref="MedicationRequest/draft-ifx",
    resource={
        "resourceType": "MedicationRequest",
        "id": "draft-ifx",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "infliximab 300 mg IV"},
    },
    dose_mg=300,
    indication="ra",
)

DAS = [
    Score(
        "DAS28-ESR",
        5.42,
        "high",
        date(2026, 10, 2),
        inputs={"tjc28": 8, "sjc28": 6, "esr": 38, "ptga_mm": 60},
        evidence=[Evidence("Observation/esr1", "esr", 38, "mm/h", date(2026, 10, 2))],
    ),
    Score("DAS28-ESR", 4.9, "moderate", date(2026, 7, 1), inputs={"tjc28": 6}),
    Score("DAS28-ESR", 3.1, "low", date(2026, 4, 1), inputs={"tjc28": 2}),
    Score("CDAI", 31.0, "high", date(2026, 10, 2), inputs={"tjc28": 8, "sjc28": 6}),
]

SAFETY = [
    Finding(
        "JAKI-AGE-65",
        "warning",
        "safety",
        TOFA.ref,
        "tofacitinib",
        evidence=[Evidence("Patient/p1", "age", 72, "a", date(2026, 11, 23))],
        source=PRAC,
        params={"age": 72},
    ),
    Finding(
        "JAKI-DOSE-MAX",
        "critical",
        "safety",
        TOFA.ref,
        "tofacitinib",
        evidence=[Evidence(TOFA.ref, "dose", 10, "mg", date(2026, 11, 23))],
        source=XELJANZ_SMPC,
        params={"dose_mg": 10, "per_day": 2, "label_dose_mg": 5},
        suggestions=[Suggestion("dose-update", {"dose_mg": 5, "per_day": 2})],
    ),
    Finding(
        "JAKI-SMOKER",
        "warning",
        "safety",
        TOFA.ref,
        "tofacitinib",
        evidence=[Evidence("Observation/smk", "smoking_status", "current", None, date(2026, 5, 1))],
        source=f"{PRAC}; {ORAL}",
    ),
]

SCREENING = [
    Finding(
        "JAKI-TB-SCREEN",
        "warning",
        "screening",
        TOFA.ref,
        "tofacitinib",
        source=f"{LABELS}; {CHENG}",
        suggestions=[Suggestion("order-test", {"test": "igra"})],
    ),
    Finding(
        "JAKI-ZOSTER",
        "info",
        "screening",
        TOFA.ref,
        "tofacitinib",
        source=ACR,
        suggestions=[Suggestion("vaccinate", {"cvx": "187"})],
    ),
]

NOT_ASSESSED = [
    NotAssessed(
        "JAKI-HBV",
        "HBsAg or anti-HBc result",
        order_ref=TOFA.ref,
        drug="tofacitinib",
        concepts=("hbsag", "anti_hbc"),
        suggestions=[Suggestion("order-test", {"test": "hbv_serology"})],
    ),
    NotAssessed(
        "JAKI-RENAL-DOSE",
        "eGFR or creatinine clearance since 2026-08-25",
        category="safety",
        order_ref=TOFA.ref,
        drug="tofacitinib",
        since=date(2026, 8, 25),
        concepts=("egfr", "crcl"),
        suggestions=[Suggestion("order-test", {"test": "creatinine"})],
    ),
]

ACTIVITY = [
    Finding(
        "RA-ACTIVITY",
        "info",
        "activity",
        TOFA.ref,
        "tofacitinib",
        evidence=[Evidence("Observation/esr1", "esr", 38, "mm/h", date(2026, 10, 2))],
        source=CHENG,
    )
]


def elderly_smoker() -> Assessment:
    return Assessment(
        orders=[TOFA],
        findings=SAFETY + SCREENING + ACTIVITY,
        not_assessed=NOT_ASSESSED,
        scores=DAS,
    )


def two_drugs() -> Assessment:
    ifx_low = Finding(
        "IFX-TDM-LOW",
        "warning",
        "safety",
        IFX.ref,
        "infliximab",
        evidence=[Evidence("Observation/t1", "ifx_trough", 0.6, "ug/mL", date(2026, 9, 1))],
        source=ST_CLAIR,
        suggestions=[Suggestion("order-test", {"test": "ifx_antibody"})],
    )
    tb_ifx = Finding(
        "JAKI-TB-SCREEN",
        "warning",
        "screening",
        IFX.ref,
        "infliximab",
        source=REMICADE,
        suggestions=[Suggestion("order-test", {"test": "igra"})],
    )
    return Assessment(
        orders=[TOFA, IFX],
        findings=SAFETY + SCREENING + [ifx_low, tb_ifx],
        scores=DAS,
    )


def data_unavailable() -> Assessment:
    return Assessment(
        orders=[TOFA],
        unavailable=[Unavailable("observations", "timeout")],
    )


def patient_view() -> Assessment:
    return Assessment(
        orders=[],
        findings=[
            Finding("RA-ACTIVITY", "info", "activity", None, None, source=CHENG),
        ],
        scores=DAS,
    )
