"""Feedback: validated, idempotent, stored before it is acknowledged, kept across restarts,
unknown cards stored and counted apart; audit rows without raw patient ids."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from cds_service.outcome import diagnostics
from cds_service.storage import AuditRow, Storage, get_storage

PATH = "/cds-services/rheum-order-sign/feedback"


def item(card: str, **over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "card": card,
        "outcome": "overridden",
        "overrideReason": {
            "reason": {"code": "benefit-outweighs-risk", "system": "https://rheum-cds.example"},
            "userComment": "reviewed with the patient",
        },
        "outcomeTimestamp": "2026-11-23T10:15:30.123Z",
    }
    out.update(over)
    return out


def post(app: Flask, *items: dict[str, Any], path: str = PATH) -> Any:
    return app.test_client().post(path, json={"feedback": list(items)})


def rows(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        return get_storage().feedback_rows()


def metric(app: Flask, name: str, **labels: str) -> float:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"^(\w+)\{(.*)\} (\S+)$", line)
        if m and m.group(1) == name:
            got = ",".join(sorted(m.group(2).split(",")))
            if got == want:
                return float(m.group(3))
    return 0.0


def test_feedback_is_stored_and_acknowledged(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    card = str(uuid.uuid4())
    response = post(app, item(card))
    assert response.status_code == 200
    assert response.json == {"received": 1, "stored": 1, "duplicates": 0}
    [row] = rows(app)
    assert row["card"] == card
    assert row["outcome"] == "overridden"
    assert row["override_code"] == "benefit-outweighs-risk"
    assert row["override_display"] is None  # a reason without display is accepted
    assert row["user_comment"] == "reviewed with the patient"
    assert row["outcome_at"] == datetime(2026, 11, 23, 10, 15, 30, 123000, tzinfo=UTC)


def test_accepted_feedback_keeps_the_accepted_suggestion_ids(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    accepted = item(
        str(uuid.uuid4()),
        outcome="accepted",
        acceptedSuggestions=[{"id": "sugg-order-igra"}, {"id": "sugg-lipids"}],
    )
    del accepted["overrideReason"]
    assert post(app, accepted).status_code == 200
    assert rows(app)[0]["accepted_suggestions"] == ["sugg-order-igra", "sugg-lipids"]


def test_the_same_item_twice_is_stored_once(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    card = str(uuid.uuid4())
    assert post(app, item(card)).json["stored"] == 1
    again = post(app, item(card))
    assert again.status_code == 200
    assert again.json == {"received": 1, "stored": 0, "duplicates": 1}
    # the same instant written in another offset is the same item
    same_instant = item(card, outcomeTimestamp="2026-11-23T12:15:30.123+02:00")
    assert post(app, same_instant).json["stored"] == 0
    # repeated inside one request
    other = str(uuid.uuid4())
    assert post(app, item(other), item(other)).json == {
        "received": 2,
        "stored": 1,
        "duplicates": 1,
    }
    assert len(rows(app)) == 2


def test_a_later_outcome_for_the_same_card_is_a_new_item(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    card = str(uuid.uuid4())
    post(app, item(card))
    later = item(card, outcomeTimestamp="2026-11-23T10:20:00.000Z")
    assert post(app, later).json["stored"] == 1
    assert len(rows(app)) == 2


def test_unknown_card_is_stored_and_counted_apart(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    issued, never_issued = str(uuid.uuid4()), str(uuid.uuid4())
    with app.app_context():
        get_storage().record_audit(
            AuditRow(
                service_id="rheum-order-sign",
                hook="order-sign",
                hook_instance=str(uuid.uuid4()),
                status=200,
                patient_id="pat-1",
                cards=[{"uuid": issued, "indicator": "warning"}],
            )
        )
    unknown_before = metric(
        app,
        "rheum_cds_feedback_items_total",
        outcome="overridden",
        card="unknown",
        result="stored",
    )
    known_before = metric(
        app,
        "rheum_cds_feedback_items_total",
        outcome="overridden",
        card="known",
        result="stored",
    )
    assert post(app, item(issued), item(never_issued)).json["stored"] == 2
    by_card = {r["card"]: r for r in rows(app)}
    assert by_card[issued]["known_card"] is True
    assert by_card[never_issued]["known_card"] is False
    assert (
        metric(
            app,
            "rheum_cds_feedback_items_total",
            outcome="overridden",
            card="unknown",
            result="stored",
        )
        == unknown_before + 1
    )
    assert (
        metric(
            app,
            "rheum_cds_feedback_items_total",
            outcome="overridden",
            card="known",
            result="stored",
        )
        == known_before + 1
    )


def test_card_issued_by_another_service_counts_as_unknown(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    card = str(uuid.uuid4())
    with app.app_context():
        get_storage().record_cards("rheum-patient-view", "hi-1", [{"uuid": card}])
    post(app, item(card))
    assert rows(app)[0]["known_card"] is False


def test_feedback_survives_a_restart(make_app: Callable[..., Flask]) -> None:
    first = make_app()
    card = str(uuid.uuid4())
    assert post(first, item(card)).status_code == 200
    with first.app_context():
        get_storage().dispose()
    del first
    second = make_app()  # a new process on the same database
    assert [r["card"] for r in rows(second)] == [card]
    assert post(second, item(card)).json["duplicates"] == 1


@pytest.mark.parametrize(
    ("body", "member"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b"{}", "feedback"),
        (b'{"feedback": []}', "feedback"),
        (b'{"feedback": [42]}', "feedback[0]"),
        (
            b'{"feedback": [{"outcome": "overridden",'
            b' "outcomeTimestamp": "2026-11-23T10:00:00Z"}]}',
            "feedback[0].card",
        ),
        (
            b'{"feedback": [{"card": "c", "outcome": "ignored",'
            b' "outcomeTimestamp": "2026-11-23T10:00:00Z"}]}',
            "feedback[0].outcome",
        ),
        (
            b'{"feedback": [{"card": "c", "outcome": "accepted",'
            b' "outcomeTimestamp": "2026-11-23T10:00:00Z"}]}',
            "feedback[0].acceptedSuggestions",
        ),
        (
            b'{"feedback": [{"card": "c", "outcome": "accepted", "acceptedSuggestions": [{}],'
            b' "outcomeTimestamp": "2026-11-23T10:00:00Z"}]}',
            "feedback[0].acceptedSuggestions[0].id",
        ),
        (
            b'{"feedback": [{"card": "c", "outcome": "overridden",'
            b' "outcomeTimestamp": "2026-11-23T10:00:00"}]}',
            "feedback[0].outcomeTimestamp",
        ),
        (
            b'{"feedback": [{"card": "c", "outcome": "overridden",'
            b' "outcomeTimestamp": "yesterday"}]}',
            "feedback[0].outcomeTimestamp",
        ),
        (b'{"feedback": [{"card": "c", "outcome": "overridden"}]}', "feedback[0].outcomeTimestamp"),
        (
            b'{"feedback": [{"card": "c", "outcome": "overridden", "overrideReason": "no",'
            b' "outcomeTimestamp": "2026-11-23T10:00:00Z"}]}',
            "feedback[0].overrideReason",
        ),
        (
            b'{"feedback": [{"card": "c", "outcome": "overridden",'
            b' "overrideReason": {"reason": {"display": "x"}},'
            b' "outcomeTimestamp": "2026-11-23T10:00:00Z"}]}',
            "feedback[0].overrideReason.reason.code",
        ),
    ],
)
def test_invalid_feedback_is_a_400_naming_the_member(
    make_app: Callable[..., Flask], body: bytes, member: str
) -> None:
    app = make_app()
    response = app.test_client().post(PATH, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["issue"][0]["expression"] == [member]
    assert member in diagnostics(response.json)
    assert rows(app) == []


def test_a_bad_item_rejects_the_whole_request(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    response = post(app, item(str(uuid.uuid4())), item("x", outcome="maybe"))
    assert response.status_code == 400
    assert response.json["issue"][0]["expression"] == ["feedback[1].outcome"]
    assert rows(app) == []


def test_unknown_service_is_404(make_app: Callable[..., Flask]) -> None:
    response = post(make_app(), item("c"), path="/cds-services/not-a-service/feedback")
    assert response.status_code == 404


def test_body_over_the_limit_is_413(make_app: Callable[..., Flask]) -> None:
    app = make_app(max_body_bytes=2048)
    response = post(app, *[item(str(uuid.uuid4())) for _ in range(30)])
    assert response.status_code == 413
    assert rows(app) == []


def test_storage_unavailable_is_503_never_a_false_200(tmp_path: Path) -> None:
    from cds_service.app import create_app
    from cds_service.config import Config

    app = create_app(
        Config(storage_url="postgresql://nobody@127.0.0.1:1/none", allow_unsigned=True)
    )
    client = app.test_client()
    response = client.post(PATH, json={"feedback": [item("c")]})
    assert response.status_code == 503
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_audit_row_holds_only_a_keyed_hash_of_the_patient(
    make_app: Callable[..., Flask], storage_url: str
) -> None:
    app = make_app()
    with app.app_context():
        storage = get_storage()
        ok = storage.record_audit(
            AuditRow(
                service_id="rheum-order-sign",
                hook="order-sign",
                hook_instance="d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                status=200,
                patient_id="patient-raw-id-8842",
                client_id="https://ehr.example.test",
                rule_ids=["JAKI-AGE-65", "JAKI-TB-SCREEN"],
                cards=[{"uuid": "card-1", "indicator": "warning"}],
                fhir_calls=3,
                unavailable=["immunizations"],
                timings_ms={"auth": 1.2, "gather": 80.5, "total": 95.0},
                language="ja",
            )
        )
        assert ok
        [row] = storage.audit_rows()
    assert row["patient_hash"] == Storage(storage_url, "storage-test-key").hash_patient_id(
        "patient-raw-id-8842"
    )
    assert row["patient_hash"] != Storage(storage_url, "other-key").hash_patient_id(
        "patient-raw-id-8842"
    )
    assert row["rule_ids"] == ["JAKI-AGE-65", "JAKI-TB-SCREEN"]
    assert row["fhir_calls"] == 3
    assert row["unavailable"] == ["immunizations"]
    assert row["timings_ms"]["gather"] == 80.5
    assert row["card_count"] == 1
    with app.app_context():
        assert get_storage().issued_card("card-1") == "rheum-order-sign"
    if storage_url.startswith("sqlite:///"):
        db = Path(storage_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
        assert b"patient-raw-id-8842" not in raw


def test_audit_failure_does_not_raise_and_is_counted() -> None:
    storage = Storage("postgresql://nobody@127.0.0.1:1/none")
    row = AuditRow(service_id="rheum-order-sign", hook="order-sign", hook_instance="x", status=200)
    from cds_service import metrics

    before = metrics.AUDIT_WRITE_FAILURES._value.get()
    assert storage.record_audit(row) is False
    assert metrics.AUDIT_WRITE_FAILURES._value.get() == before + 1


def test_replay_cache_is_shared_and_atomic(storage_url: str) -> None:
    exp = datetime.now(UTC) + timedelta(minutes=5)
    stores = [Storage(storage_url) for _ in range(4)]  # four workers
    results: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def worker(s: Storage) -> None:
        barrier.wait()
        results.append(s.remember_jti("https://ehr.test", "jti-1", exp))

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert stores[0].remember_jti("https://other.test", "jti-1", exp) is True


def test_replay_cache_is_atomic_across_threads_of_one_worker(storage_url: str) -> None:
    storage = Storage(storage_url)  # one gthread worker: one engine, several threads
    exp = datetime.now(UTC) + timedelta(minutes=5)
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        results.append(storage.remember_jti("https://ehr.test", "jti-threads", exp))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and results.count(False) == 5


def test_concurrent_duplicate_feedback_is_stored_once(storage_url: str) -> None:
    from cds_service.storage import FeedbackItem

    stores = [Storage(storage_url) for _ in range(4)]
    fb = FeedbackItem(card="c-race", outcome="overridden", outcome_at=datetime.now(UTC))
    results = []
    barrier = threading.Barrier(len(stores))

    def worker(s: Storage) -> None:
        barrier.wait()
        results.append(s.store_feedback("rheum-order-sign", [fb]))

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.stored for r in results) == [0, 0, 0, 1]
    assert len(stores[0].feedback_rows()) == 1


def test_replay_cache_rows_are_purged_after_exp(storage_url: str) -> None:
    storage = Storage(storage_url)
    past = datetime.now(UTC) - timedelta(hours=1)
    assert storage.remember_jti("https://ehr.test", "old", past)
    assert storage.remember_jti("https://ehr.test", "new", datetime.now(UTC) + timedelta(hours=1))
    assert storage.purge_expired_jti() == 1
    assert storage.remember_jti("https://ehr.test", "new", datetime.now(UTC)) is False


def test_replay_cache_purges_expired_rows_by_itself_when_due(storage_url: str) -> None:
    """remember_jti purges at most every JTI_PURGE_EVERY_S, in a transaction of its own: a
    replay refused right after does not undo the purge, and calls in between only insert."""
    storage = Storage(storage_url)
    past = datetime.now(UTC) - timedelta(hours=1)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert storage.remember_jti("https://ehr.test", "old", past)
    assert storage.remember_jti("https://ehr.test", "kept", later)
    storage._last_purge = -1e9  # the purge is due
    assert storage.remember_jti("https://ehr.test", "kept", later) is False  # a replay
    assert storage.purge_expired_jti() == 0  # the expired row went with the due purge
    assert storage.remember_jti("https://ehr.test", "old", later)  # forgotten: accepted again
    assert storage.remember_jti("https://ehr.test", "kept", later) is False
