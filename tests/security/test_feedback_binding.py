"""Feedback is bound to the client a card was answered to (issue 12, finding 6): client B's
"overridden" on client A's card is refused and never reaches A's analytics; one call carries
at most service.max_feedback_items items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from cds_service.storage import get_storage
from tests.fixtures.jwt import ClientSigner, JwksServer, bearer, trusted_client
from tests.security.conftest import BASE_URL, FEEDBACK_PATH, feedback_body
from tests.service import samples

HOOK_PATH = "/cds-services/rheum-order-sign"


@pytest.fixture
def two_clients(make_app: Callable[..., Flask], signers: dict[str, ClientSigner]) -> Any:
    other = ClientSigner.generate("ES384", issuer="https://other-ehr.example.test", kid="b")
    with JwksServer() as jwks:
        a_url = jwks.publish("/a.json", signers["ES384"])
        b_url = jwks.publish("/b.json", other)
        app = make_app(
            clients=(trusted_client(signers["ES384"], [a_url]), trusted_client(other, [b_url]))
        )
        yield app, signers["ES384"], other


def _cards_for(app: Flask, signer: ClientSigner) -> list[str]:
    body = samples.order_sign(prefetch=samples.full_prefetch())
    response = app.test_client().post(
        HOOK_PATH, json=body, headers=bearer(signer, BASE_URL + HOOK_PATH)
    )
    assert response.status_code == 200
    uuids = [card["uuid"] for card in response.get_json()["cards"]]
    response.close()  # stage 7 (the audit and the issued cards) runs on close
    assert uuids
    return uuids


def test_another_clients_feedback_on_a_card_is_refused(two_clients: Any) -> None:
    app, a, b = two_clients
    card = _cards_for(app, a)[0]
    client = app.test_client()
    foreign = client.post(
        FEEDBACK_PATH, json=feedback_body(card), headers=bearer(b, BASE_URL + FEEDBACK_PATH)
    )
    assert foreign.status_code == 403
    assert foreign.get_json()["issue"][0]["expression"] == ["feedback[0].card"]
    with app.app_context():
        assert get_storage().feedback_rows() == []
    own = client.post(
        FEEDBACK_PATH, json=feedback_body(card), headers=bearer(a, BASE_URL + FEEDBACK_PATH)
    )
    assert own.status_code == 200
    with app.app_context():
        (row,) = get_storage().feedback_rows()
    assert row["known_card"] is True and row["client_id"] == a.issuer


def test_too_many_items_in_one_call_is_a_413(
    make_app: Callable[..., Flask], signers: dict[str, ClientSigner]
) -> None:
    app = make_app(max_feedback_items=100)
    item = feedback_body()["feedback"][0]
    body = {
        "feedback": [
            dict(item, outcomeTimestamp=f"2026-11-23T10:15:{i % 60:02d}.{i:03d}Z")
            for i in range(101)
        ]
    }
    response = app.test_client().post(
        FEEDBACK_PATH, json=body, headers=bearer(signers["RS384"], BASE_URL + FEEDBACK_PATH)
    )
    assert response.status_code == 413
    assert response.get_json()["resourceType"] == "OperationOutcome"
    with app.app_context():
        assert get_storage().feedback_rows() == []


def test_a_database_from_before_the_binding_gets_the_column(tmp_path: Any) -> None:
    import sqlite3

    from cds_service.storage import Storage

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE issued_card (uuid VARCHAR(255) PRIMARY KEY, service_id VARCHAR(64),"
            " hook_instance VARCHAR(255), indicator VARCHAR(16), rule_ids TEXT,"
            " issued_at DATETIME)"
        )
        conn.execute(
            "INSERT INTO issued_card VALUES ('old-card', 'rheum-order-sign', 'h', 'warning',"
            " '[]', '2026-11-01 10:00:00')"
        )
    storage = Storage(f"sqlite:///{path}")
    storage.record_cards("rheum-order-sign", "h2", [{"uuid": "new-card"}], "https://a.test")
    assert storage.cards_of_other_clients(
        "rheum-order-sign", ["old-card", "new-card"], "https://b.test"
    ) == {"new-card"}  # a card from before the binding is taken from anyone
