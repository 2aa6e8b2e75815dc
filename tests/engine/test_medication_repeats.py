"""Repeat orders and refills of one drug (the same medication and dosage lines) are read
once per chart: each order still gets its own status, date and reference, and the same
drug, route, classes and dose a chart holding only that order gives it."""

from __future__ import annotations

import copy
from typing import Any

from cds_service.knowledge import load_knowledge
from cds_service.normalise.medications import normalise_medications

K = load_knowledge()
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def order(rid: str, code: str, text: str, dose: Any, status: str = "active", **more: Any):
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "authoredOn": f"2026-0{1 + len(rid) % 9}-15",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": text}],
            "text": text,
        },
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": dose}],
            }
        ],
        **more,
    }


def test_each_repeat_order_reads_as_it_reads_alone():
    prednisone, mtx = ("312615", "prednisone 5 MG Oral Tablet"), ("105586", "methotrexate 2.5 MG")
    orders = [
        order("p1", *prednisone, {"value": 1, "unit": "tablet"}),
        order("p2", *prednisone, {"value": 1, "unit": "tablet"}, status="completed"),
        order("p3", *prednisone, {"value": 2, "unit": "tablet"}),  # another dose
        order("p4", *prednisone, {"value": "x"}),  # no readable dose: said for each order
        order("p5", *prednisone, {"value": "x"}, status="stopped"),
        order("m1", *mtx, {"value": 6, "unit": "tablet"}),
        order("m2", *mtx, {"value": 6, "unit": "tablet"}),
        order("p6", *prednisone, {"value": 1, "unit": "tablet"}),
    ]
    meds, dropped = normalise_medications(copy.deepcopy(orders), [], K.vs)
    alone = [normalise_medications([copy.deepcopy(o)], [], K.vs) for o in orders]
    assert meds == [m for found, _ in alone for m in found]
    assert dropped == [d for _, found in alone for d in found]
    assert [m.ref for m in meds] == [f"MedicationRequest/{o['id']}" for o in orders]
    assert [m.status for m in meds][:2] == ["active", "completed"]
    assert meds[0].dose_mg != meds[2].dose_mg and meds[0].per_day == meds[2].per_day
    assert [d.ref for d in dropped] == ["MedicationRequest/p4"]  # the stopped one is not active
