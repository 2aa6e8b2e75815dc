"""Drive the real CDS Hooks sandbox (built from its own source) in headless Chromium against a
local FHIR server and a running `rheum-cds serve --sandbox`, and report what it shows.

Not part of the test suite (it needs the sandbox's build, a FHIR server loaded with
`rheum-cds load-demo` and a running service); docs/integration.md says how to run it.

The page is served from the sandbox's real origin, `https://sandbox.cds-hooks.org`: Playwright
answers every request for that origin from the local build, so the service sees the Origin
header the public sandbox sends and no request leaves the machine. Any other request that is
not for the FHIR server or the service is refused and listed (no egress). The FHIR server's
answers get `Access-Control-Allow-Origin: *`, as HAPI's public image sends (the test suite's
HAPI allows loopback origins only); the service's CORS is not touched.

    .venv/bin/python scripts/sandbox_check.py --build /tmp/sandbox-src/build \\
        --fhir http://127.0.0.1:8090/fhir --service http://localhost:8080 --out /tmp/shots

Exit status 0 when every scenario shows its expected cards, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ORIGIN = "https://sandbox.cds-hooks.org"
ALL_CLEAR = "All clear!"
TOFACITINIB = "tofacitinib 5 MG Oral Tablet"
SETTLE_S = 20.0


@dataclass
class Scenario:
    name: str
    patient: str
    screen: str  # patient-view | rx-sign
    hook: str
    expect: list[str]  # substrings that must appear in some card summary (case-insensitive)
    first: str | None = None  # substring the first card's summary must hold
    locale: str = "en-US"
    number: int = 1
    dstu2: bool = False  # the FHIR server's /metadata says 1.0.2: the sandbox sends DSTU2


@dataclass
class Outcome:
    scenario: Scenario
    summaries: list[str] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    all_clear: bool = False
    problems: list[str] = field(default_factory=list)


SCENARIOS = [
    Scenario(
        "tofacitinib, elderly smoker (1 tablet twice daily)",
        "demo-ra-elderly-smoker",
        "rx-sign",
        "order-sign",
        expect=["tofacitinib"],
    ),
    Scenario(
        "tofacitinib 2 tablets twice daily",
        "demo-ra-elderly-smoker",
        "rx-sign",
        "order-sign",
        expect=["dose above label"],
        first="dose above label",
        number=2,
    ),
    Scenario(
        "patient-view, new PMR patient",
        "demo-pmr-new-onset",
        "patient-view",
        "patient-view",
        expect=["PMR-AS"],
    ),
    Scenario(
        "patient-view, Japanese chart in a Japanese browser",
        "demo-ra-japan-icd10",
        "patient-view",
        "patient-view",
        expect=[],
        locale="ja-JP",
    ),
    Scenario(
        "tofacitinib, Japanese chart in a Japanese browser",
        "demo-ra-japan-icd10",
        "rx-sign",
        "order-sign",
        expect=[],
        locale="ja-JP",
    ),
    Scenario(
        "DSTU2 draft order (MedicationOrder), 2 tablets twice daily",
        "demo-ra-elderly-smoker",
        "rx-sign",
        "order-sign",
        expect=["dose above label"],
        first="dose above label",
        number=2,
        dstu2=True,
    ),
]


def _route_origin(build: Path) -> Any:
    def handle(route: Any) -> None:
        path = urlsplit(route.request.url).path.lstrip("/") or "index.html"
        target = (build / path).resolve()
        if not target.is_file() or build.resolve() not in target.parents:
            route.fulfill(status=404, body="not in the build")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=target.read_bytes(), headers={"Content-Type": kind})

    return handle


def _route_fhir(route: Any, dstu2: bool) -> None:
    if route.request.method == "OPTIONS":
        route.fulfill(
            status=204,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "*",
            },
        )
        return
    response = route.fetch()
    headers = dict(response.headers)
    headers["access-control-allow-origin"] = "*"
    if dstu2 and urlsplit(route.request.url).path.endswith("/metadata"):
        statement = response.json()
        statement["fhirVersion"] = "1.0.2"
        route.fulfill(response=response, headers=headers, json=statement)
        return
    route.fulfill(response=response, headers=headers)


def _is_japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def run_scenario(
    browser: Any, args: argparse.Namespace, scenario: Scenario, refused: list[str]
) -> Outcome:
    outcome = Outcome(scenario)
    fhir = args.fhir.rstrip("/")
    service = args.service.rstrip("/")
    context = browser.new_context(
        locale=scenario.locale,
        viewport={"width": 1400, "height": 1100},
        extra_http_headers={"Accept-Language": scenario.locale},
    )
    # Chromium asks the user before a public page may call a loopback address (Local Network
    # Access); granting it is the user's click on "Allow" in that prompt.
    origin = args.origin.rstrip("/")
    context.grant_permissions(["local-network-access"], origin=origin)
    page = context.new_page()
    build = Path(args.build)
    fhir_origin = "{0.scheme}://{0.netloc}".format(urlsplit(fhir))
    service_origin = "{0.scheme}://{0.netloc}".format(urlsplit(service))

    def gate(route: Any) -> None:
        url = route.request.url
        if url.startswith(origin + "/"):
            _route_origin(build)(route)
        elif url.startswith(fhir_origin + "/"):
            _route_fhir(route, scenario.dstu2)
        elif url.startswith(service_origin + "/"):
            route.fallback()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", gate)
    service_calls: list[tuple[str, int, Any]] = []

    def on_response(response: Any) -> None:
        hook_call = response.request.method == "POST"
        if hook_call and response.url.startswith(service + "/cds-services/"):
            try:
                body = response.json()
            except Exception:  # noqa: BLE001 - an empty or non-JSON body is itself the finding
                body = None
            sent = response.request.post_data_json
            service_calls.append((response.url, response.status, {"request": sent, "answer": body}))

    page.on("response", on_response)
    page.on("console", lambda m: m.type == "error" and print(f"    console: {m.text}"))
    query = {
        "fhirServiceUrl": fhir,
        "serviceDiscoveryURL": f"{service}/cds-services",
        "patientId": scenario.patient,
        "hook": scenario.hook,
        "screen": scenario.screen,
    }
    page.goto(f"{origin}/?{urlencode(query)}")
    page.wait_for_load_state("networkidle")
    if scenario.screen == "rx-sign":
        page.locator('input[name="medication-input"]').fill("tofacitinib")
        page.get_by_text(TOFACITINIB, exact=True).first.click()
        if scenario.number != 1:
            amount = page.locator("#dosage-amount")
            amount.fill(str(scenario.number))
        page.locator("#dosage-frequency").click()
        page.get_by_role("option", name="twice daily").click()
        page.get_by_role("button", name="Sign Order").click()
    deadline = time.monotonic() + SETTLE_S
    page.wait_for_load_state("networkidle")
    while time.monotonic() < deadline:
        cards = page.locator('[class*="decision-card"]')
        if cards.count() and service_calls:
            break
        if page.get_by_text(ALL_CLEAR).count() and service_calls:
            break
        time.sleep(0.5)
    page.wait_for_load_state("networkidle")
    time.sleep(1.0)
    summaries = page.locator('[class*="decision-card"] .MuiTypography-root:first-child')
    outcome.summaries = [s.strip() for s in summaries.all_inner_texts() if s.strip()]
    outcome.all_clear = page.get_by_text(ALL_CLEAR).count() > 0
    outcome.answers = [
        {
            "url": url,
            "status": status,
            "cards": len((body["answer"] or {}).get("cards", [])),
            "suggestions": [
                suggestion.get("label", "")
                for card in (body["answer"] or {}).get("cards", [])
                for suggestion in card.get("suggestions", [])
            ],
        }
        for url, status, body in service_calls
    ]
    out = Path(args.out)
    shot = out / (scenario.name.replace(" ", "_").replace(",", "") + ".png")
    page.screenshot(path=str(shot), full_page=True)
    (out / (shot.stem + ".json")).write_text(
        json.dumps([body for _, _, body in service_calls], indent=1, ensure_ascii=False)
    )
    context.close()

    text = " | ".join(outcome.summaries).lower()
    if outcome.all_clear:
        outcome.problems.append('the sandbox shows "All clear!"')
    if not service_calls:
        outcome.problems.append("the sandbox never called the service")
    for status in {s for _, s, _ in service_calls if s != 200}:
        outcome.problems.append(f"the service answered {status}")
    for want in scenario.expect:
        if want.lower() not in text:
            outcome.problems.append(f"no card summary holds {want!r}")
    if scenario.first and not (
        outcome.summaries and scenario.first.lower() in outcome.summaries[0].lower()
    ):
        outcome.problems.append(f"the first card does not headline {scenario.first!r}")
    if scenario.locale.startswith("ja") and not (
        outcome.summaries and all(_is_japanese(s) for s in outcome.summaries)
    ):
        outcome.problems.append("not every card summary is in Japanese")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True, help="the sandbox's build directory")
    parser.add_argument("--fhir", required=True, help="FHIR R4 base with the demo patients")
    parser.add_argument("--service", default="http://localhost:8080", help="service base URL")
    parser.add_argument("--out", default="sandbox-check", help="screenshots and answers")
    parser.add_argument("--chromium", default=shutil.which("chromium"), help="chromium binary")
    parser.add_argument("--only", help="run the scenarios whose name holds this text")
    parser.add_argument(
        "--origin",
        default=ORIGIN,
        help=f"origin the page is served from ({ORIGIN}; e.g. http://localhost:3000 for a "
        "sandbox served on the same machine)",
    )
    args = parser.parse_args(argv)
    build = Path(args.build)
    if not (build / "index.html").is_file() or not (build / "app.bundle.js").is_file():
        parser.error(f"{build} is not the sandbox's build (index.html, app.bundle.js)")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    failed = 0
    refused: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=args.chromium,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            for scenario in SCENARIOS:
                if args.only and args.only not in scenario.name:
                    continue
                outcome = run_scenario(browser, args, scenario, refused)
                verdict = "FAIL" if outcome.problems else "ok"
                print(f"[{verdict}] {scenario.name} ({scenario.patient}, {scenario.locale})")
                for answer in outcome.answers:
                    print(f"    {answer['status']} {answer['url']}: {answer['cards']} cards")
                    for label in answer["suggestions"]:
                        print(f"    suggestion: {label}")
                for summary in outcome.summaries:
                    print(f"    card: {summary}")
                for problem in outcome.problems:
                    print(f"    problem: {problem}")
                failed += bool(outcome.problems)
        finally:
            browser.close()
    for url in sorted(set(refused)):
        print(f"refused (would leave the machine): {url}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
