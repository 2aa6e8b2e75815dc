"""Contract: the requests the real CDS Hooks sandbox sent (tests/data/sandbox), replayed
against `rheum-cds serve --sandbox` (gunicorn, a child process, no egress), signed with the
sandbox's own key exactly as the sandbox signs. The service trusts the key it ships inline,
answers from the prefetch, and gives the cards the sandbox user expects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fixtures.service import ServedService, start_service
from tests.sandbox import captures


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedService]:
    work = tmp_path_factory.mktemp("sandbox-serve")
    served = start_service(
        work,
        f"sqlite:///{work / 'audit.db'}",
        allow_unsigned=False,
        extra_args=["--sandbox"],
    )
    yield served
    served.stop()


def public_url(service: ServedService, path: str) -> str:
    """The URL to register: base_url (http://localhost:PORT, as serve sets it) + path."""
    return service.base_url.replace("127.0.0.1", "localhost") + path


def replay(service: ServedService, name: str, language: str | None = None) -> requests.Response:
    url = public_url(service, captures.path(name))
    return requests.post(
        url,
        data=json.dumps(captures.body(name)),
        headers=captures.headers(name, url, language),
        timeout=30,
    )


def findings(card: dict[str, Any]) -> list[tuple[str, str]]:
    data = card["extension"]["org.rheum-cds"]
    return [(f["id"], f["severity"]) for f in data.get("findings", [])]


def all_findings(response: requests.Response) -> set[str]:
    return {rule for card in response.json()["cards"] for rule, _ in findings(card)}


def log_text(service: ServedService) -> str:
    return Path(service.log_path).read_text(encoding="utf-8", errors="replace")


def test_start_up_log_says_what_to_register_and_which_servers(service: ServedService) -> None:
    text = log_text(service)
    assert f"register {public_url(service, '/cds-services')} in the CDS client" in text
    assert "https://launch.smarthealthit.org/v/r2/fhir" in text
    assert "https://launch.smarthealthit.org/v/r4/fhir" in text
    assert "any loopback server" in text
    assert "https://sandbox.cds-hooks.org" in text
    assert "private signing key is public" in text


def test_discovery_signed_by_the_sandbox_asks_for_the_demo_clinic_codes(
    service: ServedService,
) -> None:
    url = public_url(service, "/cds-services")
    headers = captures.headers("patient-view", url)
    response = requests.get(url, headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == captures.ORIGIN
    templates = [s["prefetch"]["observations"] for s in response.json()["services"]]
    for code in ("MSTIFF", "ELEVUL", "KL6", "IFXAB"):
        assert all(code in t for t in templates), code


def test_preflight_from_the_sandbox_origin_is_allowed(service: ServedService) -> None:
    url = public_url(service, captures.path("rx-sign-tofacitinib"))
    response = requests.options(
        url,
        headers={
            "Origin": captures.ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=30,
    )
    assert response.headers["Access-Control-Allow-Origin"] == captures.ORIGIN
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_tofacitinib_for_the_elderly_smoker(service: ServedService) -> None:
    response = replay(service, "rx-sign-tofacitinib")
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == captures.ORIGIN
    safety = response.json()["cards"][0]
    assert safety["indicator"] == "warning"
    assert {"JAKI-AGE-65", "JAKI-SMOKER"} <= {rule for rule, _ in findings(safety)}
    assert "JAKI-DOSE-MAX" not in all_findings(response)  # 5 mg twice daily is labelled


def test_the_signature_was_verified_with_the_inline_key(service: ServedService) -> None:
    """The calls were trusted as the sandbox: no token was ignored or refused, and no JWKS
    fetch failed (the test machines have no route to the sandbox's jku; that the inline key
    is used without any fetch is tests/security/test_jwt.py's
    test_inline_key_is_used_for_its_kid_whatever_the_jku)."""
    assert replay(service, "rx-view").status_code == 200
    text = log_text(service)
    assert "token ignored" not in text
    assert "request refused" not in text
    assert "JWKS unavailable" not in text


def test_two_tablets_twice_daily_headlines_dose_above_label(service: ServedService) -> None:
    """`{value: 2, system: UCUM, code: "{pill}"}` of RxNorm SCD 1357541 (tofacitinib 5 mg
    tablet) twice daily is 20 mg/day, above the RA label's 10 mg/day."""
    response = replay(service, "rx-sign-2-tablets-bid")
    assert response.status_code == 200, response.text
    first = response.json()["cards"][0]
    assert first["indicator"] == "critical"
    assert findings(first)[0] == ("JAKI-DOSE-MAX", "critical")
    assert "dose above label" in first["summary"]
    assert "{pill}" not in json.dumps(response.json())  # the dose was read, not reported
    # The sandbox's draft sends `category` as one object: the labelled-dose update is still
    # offered (an update of request-123), not dropped as invalid R4.
    updates = [
        action
        for suggestion in first.get("suggestions", [])
        for action in suggestion["actions"]
        if action["type"] == "update"
    ]
    assert [a["resource"]["id"] for a in updates] == ["request-123"], first.get("suggestions")


def test_a_japanese_browser_gets_japanese_cards(service: ServedService) -> None:
    response = replay(service, "rx-sign-2-tablets-bid", language="ja")
    assert response.status_code == 200, response.text
    first = response.json()["cards"][0]
    assert findings(first)[0] == ("JAKI-DOSE-MAX", "critical")
    assert first["extension"]["org.rheum-cds"]["language"] == "ja"
    assert any("\u3040" <= ch <= "\u30ff" for ch in first["summary"])  # kana


def test_order_select_reviews_the_selected_draft(service: ServedService) -> None:
    response = replay(service, "rx-view")
    assert response.status_code == 200, response.text
    assert {"JAKI-AGE-65", "JAKI-SMOKER"} <= all_findings(response)


def test_patient_view_is_answered_from_its_prefetch(service: ServedService) -> None:
    response = replay(service, "patient-view")
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert cards and all(c["source"]["label"] for c in cards)


def test_registering_another_host_name_is_explained_in_the_log(service: ServedService) -> None:
    """The sandbox signs the URL it was given: 127.0.0.1 while base_url says localhost. The
    log names both audiences and what to change; sandbox mode still serves the call."""
    url = service.base_url + captures.path("rx-sign-tofacitinib")  # http://127.0.0.1:PORT/...
    response = requests.post(
        url,
        data=json.dumps(captures.body("rx-sign-tofacitinib")),
        headers=captures.headers("rx-sign-tofacitinib", url),
        timeout=30,
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in log_text(service).splitlines() if '"bad_aud"' in line]
    assert lines, "no bad_aud log line"
    line = lines[-1]
    assert line["received_aud"] == url
    assert line["expected_aud"] == public_url(service, captures.path("rx-sign-tofacitinib"))
    assert "service.base_url" in line["msg"]
