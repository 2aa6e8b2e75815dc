"""No logger, the service's or a library's, writes patient data at any level (issue 12,
finding 7: at DEBUG urllib3 logged full FHIR URLs with patient ids)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask

from tests.service import samples
from tests.service.fault_server import FaultServer

PATIENT_ID = "zq-patient-7731"
NAME = "Quillfeather"
CRP_VALUE = 47.31
COMMENT = "discussed with Mrs Quillfeather"


@pytest.fixture
def fhir() -> Any:
    server = FaultServer()
    patient = dict(copy.deepcopy(samples.PATIENT), id=PATIENT_ID)
    patient["name"] = [{"family": NAME, "given": ["Orla"]}]
    crp = copy.deepcopy(samples.CRP)
    crp["subject"] = {"reference": f"Patient/{PATIENT_ID}"}
    crp["valueQuantity"] = dict(crp.get("valueQuantity") or {}, value=CRP_VALUE)
    server.data = {
        "Patient": [patient],
        "Condition": [copy.deepcopy(samples.RA)],
        "Observation": [crp],
        "MedicationRequest": [],
        "Immunization": [],
    }
    yield server
    server.close()


def _body(fhir_server: str) -> dict[str, Any]:
    body = samples.order_sign(fhir_server=fhir_server, token="tok-secret-99")
    body["context"]["patientId"] = PATIENT_ID
    for entry in body["context"]["draftOrders"]["entry"]:
        entry["resource"]["subject"] = {"reference": f"Patient/{PATIENT_ID}"}
    return body


def test_debug_logs_carry_no_patient_data(
    make_app: Callable[..., Flask],
    fhir: FaultServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from cds_service.logs import configure_logging

    caplog.set_level(logging.DEBUG)
    app = make_app(allow_unsigned=True, log_level="DEBUG")
    configure_logging("DEBUG")
    client = app.test_client()
    response = client.post("/cds-services/rheum-order-sign", json=_body(fhir.base_url))
    assert response.status_code == 200
    response.close()
    assert any(PATIENT_ID in path for path, _ in fhir.requests), "the FHIR server was called"
    card = response.get_json()["cards"][0]["uuid"] if response.get_json()["cards"] else "c-1"
    feedback = {
        "feedback": [
            {
                "card": card,
                "outcome": "overridden",
                "overrideReason": {"userComment": COMMENT},
                "outcomeTimestamp": "2026-11-23T10:15:30.123Z",
            }
        ]
    }
    assert client.post("/cds-services/rheum-order-sign/feedback", json=feedback).status_code == 200
    # a library warning that would quote a URL (urllib3 on a refused connection)
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.ConnectionError):
        session.get(f"http://127.0.0.1:1/fhir/Patient/{PATIENT_ID}", timeout=1)
    logging.getLogger("urllib3.connectionpool").warning(
        "Retrying after connection broken: /fhir/Patient/%s", PATIENT_ID
    )
    written = caplog.text + "".join(capfd.readouterr())
    assert written, "something was logged"
    for secret in (PATIENT_ID, NAME, str(CRP_VALUE), COMMENT, "tok-secret-99"):
        assert secret not in written, secret
