"""A served gevent worker through a SQLite lock held by another process (issue 16).

`rheum-cds serve --workers 1` (gevent), one trusted client with a real key, unsigned calls
allowed too. While another process holds `BEGIN IMMEDIATE` (a backup, an export) for several
seconds: a signed hook call answers 503 with an OperationOutcome and Retry-After soon (its
replay check cannot be done), feedback answers 503 with Retry-After (never a 200 for feedback
not kept), and meanwhile the worker goes on answering discovery and unsigned hook calls.
Before, each of the first two waited SQLite's 10 s busy timeout with the whole worker standing
still. Once the lock goes, the same feedback is stored and signed calls are served.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from cds_service.storage import SQLITE_BUSY_TIMEOUT_MS, Storage
from tests.fixtures.jwt import ClientSigner, bearer
from tests.fixtures.service import start_service
from tests.fixtures.sqlite_lock import SqliteWriteLock
from tests.service import samples

SIGN = "/cds-services/rheum-order-sign"
ISSUER = "https://ehr-lock.test"
# far below SQLite's busy timeout: an answer that waited for it would take 10 s
SHORT_S = SQLITE_BUSY_TIMEOUT_MS / 1000 / 3


def _config(path: Path, signer: ClientSigner) -> Path:
    jwk = ", ".join(f'{k} = "{v}"' for k, v in signer.public_jwk().items())
    path.write_text(
        f'[[clients]]\nissuer = "{ISSUER}"\njwks = {{ keys = [{{ {jwk} }}] }}\n',
        encoding="utf-8",
    )
    return path


def _timed(send: object) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = send()  # type: ignore[operator]
    return response, time.monotonic() - started


def _is_unavailable(response: requests.Response) -> bool:
    return response.status_code == 503 and response.json()["resourceType"] == "OperationOutcome"


def test_a_long_sqlite_lock_gives_fast_503s_and_the_worker_serves_on(tmp_path: Path) -> None:
    db = tmp_path / "cds.db"
    url = f"sqlite:///{db}"
    Storage(url).dispose()  # the tables, before the lock
    signer = ClientSigner.generate("ES384", issuer=ISSUER, kid="k1")
    config = _config(tmp_path / "rheum-cds.toml", signer)
    served = start_service(tmp_path / "s", url, workers=1, extra_args=["--config", str(config)])
    base = served.base_url
    # the audience is the service's base URL (the default for a port: localhost)
    audience = base.replace("127.0.0.1", "localhost") + SIGN
    body = samples.order_sign(prefetch=samples.full_prefetch())

    def signed() -> requests.Response:
        return requests.post(base + SIGN, json=body, headers=bearer(signer, audience), timeout=60)

    def feedback(card: str) -> requests.Response:
        item = {
            "card": card,
            "outcome": "overridden",
            "outcomeTimestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        return requests.post(base + SIGN + "/feedback", json={"feedback": [item]}, timeout=60)

    others: list[tuple[str, int, float]] = []  # (what, status, seconds) during the lock
    stop = threading.Event()

    def other_calls() -> None:
        while not stop.is_set():
            for what, send in (
                ("discovery", lambda: requests.get(base + "/cds-services", timeout=60)),
                ("unsigned", lambda: requests.post(base + SIGN, json=body, timeout=60)),
            ):
                response, took = _timed(send)
                others.append((what, response.status_code, took))

    try:
        first = signed()
        assert first.status_code == 200, first.text  # the client's key and audience are right
        # feedback is sent unsigned, on a card answered to an unsigned call
        unsigned = requests.post(base + SIGN, json=body, timeout=60)
        card = unsigned.json()["cards"][0]["uuid"]
        holder = SqliteWriteLock(db)
        caller = threading.Thread(target=other_calls, daemon=True)
        try:
            caller.start()
            time.sleep(0.02)  # an unsigned call's row is queued: the writer has not failed yet
            fed, fed_took = _timed(lambda: feedback(card))
            refused = [_timed(signed) for _ in range(3)]
            time.sleep(1.0)
            still_held = holder.held()
        finally:
            stop.set()
            holder.release()
            caller.join(timeout=90)
        assert still_held
        for response, took in refused:
            assert _is_unavailable(response), (response.status_code, response.text)
            assert response.headers["Retry-After"].isdigit()  # the EHR may call again
            assert took < SHORT_S, f"a signed call waited {took:.1f} s"
        assert _is_unavailable(fed), (fed.status_code, fed.text)
        assert fed.headers["Retry-After"].isdigit()  # the EHR may send it again
        assert fed_took < SHORT_S, f"feedback waited {fed_took:.1f} s"
        # the worker went on serving the other calls, none of them held for long
        assert {w for w, status, _ in others if status == 200} == {"discovery", "unsigned"}
        slowest = max(took for _, _, took in others)
        assert slowest < SHORT_S, f"another call waited {slowest:.1f} s"
        # the lock gone: the feedback sent again is stored, signed calls are served
        again = feedback(card)
        assert again.status_code == 200, again.text
        assert again.json()["stored"] == 1
        assert signed().status_code == 200
    finally:
        served.stop()
    [row] = Storage(url).feedback_rows()
    assert row["card"] == card and row["known_card"] is True
