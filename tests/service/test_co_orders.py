"""Other drugs ordered in the same session count: interactions and live vaccines (SPEC §3).

JAKI-DDI and JAKI-LIVE-VACCINE fire for a co-ordered drug ("live vaccine ... given in the last
4 weeks or ordered"), not only for medications already on the patient's list.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from cds_service.app import create_app
from cds_service.config import Config
from tests.cards.helpers import assert_valid_card
from tests.service import samples

CLARITHROMYCIN = {
    "resourceType": "MedicationRequest",
    "id": "draft-clari",
    "status": "draft",
    "intent": "order",
    "medicationCodeableConcept": {"text": "clarithromycin 500 mg tablet"},
}
LIVE_ZOSTER = {
    "resourceType": "MedicationRequest",
    "id": "draft-zvl",
    "status": "draft",
    "intent": "proposal",
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "http://hl7.org/fhir/sid/cvx",
                "code": "121",
                "display": "zoster vaccine, live",
            }
        ]
    },
}


def _fired(tmp_path: Path, *orders: dict[str, Any]) -> set[str]:
    app = create_app(Config(storage_url=f"sqlite:///{tmp_path / 'c.db'}", allow_unsigned=True))
    body = samples.order_sign(*orders, prefetch=samples.full_prefetch())
    response = app.test_client().post("/cds-services/rheum-order-sign", json=body)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    for card in cards:
        assert_valid_card(card)
    return {f["id"] for c in cards for f in c["extension"]["org.rheum-cds"]["findings"]}


def test_co_ordered_strong_cyp3a4_inhibitor_fires_ddi(tmp_path: Path) -> None:
    assert "JAKI-DDI" not in _fired(tmp_path, samples.TOFACITINIB)
    assert "JAKI-DDI" in _fired(tmp_path, samples.TOFACITINIB, copy.deepcopy(CLARITHROMYCIN))


def test_co_ordered_live_vaccine_fires(tmp_path: Path) -> None:
    assert "JAKI-LIVE-VACCINE" not in _fired(tmp_path, samples.TOFACITINIB)
    assert "JAKI-LIVE-VACCINE" in _fired(tmp_path, samples.TOFACITINIB, copy.deepcopy(LIVE_ZOSTER))
