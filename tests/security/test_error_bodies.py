"""Every error answer is a JSON OperationOutcome (issue 12 "every malformed input is a 4xx with
a JSON OperationOutcome"; issue 13 lists the statuses), never an HTML page or an empty body."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, abort

from tests.security.conftest import FEEDBACK_PATH


def _assert_operation_outcome(response, status: int) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/json", status
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert issue["severity"] in ("error", "fatal")
    assert issue["code"]
    assert issue["diagnostics"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 412, 413, 415, 422, 429, 500, 503])
def test_every_error_status_answers_an_operation_outcome(
    make_app: Callable[..., Flask], status: int
) -> None:
    app = make_app()

    @app.get("/raise/<int:code>")
    def raise_status(code: int) -> str:
        if code == 500:
            raise RuntimeError("a bug")
        abort(code)

    _assert_operation_outcome(app.test_client().get(f"/raise/{status}"), status)


def test_real_routes_answer_operation_outcomes(make_app: Callable[..., Flask]) -> None:
    client = make_app(allow_unsigned=True, max_body_bytes=1000).test_client()
    _assert_operation_outcome(client.get("/no/such/route"), 404)
    _assert_operation_outcome(client.delete("/cds-services"), 405)
    _assert_operation_outcome(client.post(FEEDBACK_PATH, data=b"{not json"), 400)
    _assert_operation_outcome(client.post(FEEDBACK_PATH, data=b"x" * 5000), 413)
    _assert_operation_outcome(client.post("/cds-services/rheum-order-sign", data=b"[1]"), 400)
    bad = client.post("/cds-services/rheum-order-sign", json={"hook": "order-sign"})
    _assert_operation_outcome(bad, 400)
    assert bad.get_json()["issue"][0]["expression"] == ["hookInstance"]
