"""`rheum-cds try`: call the service the way the CDS Hooks sandbox does, for one patient.

    rheum-cds try --fhir URL --patient ID --drug NAME [--dose MG --per-day N]
                  [--hook order-sign|order-select|patient-view] [--service URL]
                  [--prefetch|--no-prefetch] [--lang L] [--token T | --sign-with KEY --issuer ISS]

What it sends (CDS Hooks 2.0, the shape the public CDS Hooks sandbox sends: tests/data/sandbox):
- `hookInstance` a new UUID, `fhirServer` the given URL (and `fhirAuthorization` with
  `--fhir-token`), `context.userId`, `context.patientId`;
- order-sign / order-select: `context.draftOrders`, a Bundle (no `type`, as the sandbox sends it)
  with one draft MedicationRequest for the drug. The drug name is looked up in the service's own
  medication value sets (any language, generic or brand). When the value sets list a product
  (RxNorm SCD) whose strength divides `--dose`, the order is what the sandbox sends for it: that
  product's code and name, `doseQuantity {value: <tablets>, system: UCUM, code: "{pill}"}`
  without `unit`, `timing.repeat {frequency, period: 1, periodUnit: d}`, 30 days' supply,
  category community (as an R4 array: the sandbox sends one object). Otherwise it carries the
  ingredient code, the name as typed and the dose in mg. order-select also names it in
  `selections`;
- `prefetch`: with `--prefetch` (default) every template of the service's discovery document,
  expanded for the patient and fetched from the FHIR server (all pages), as a well-behaved EHR
  sends it; with `--no-prefetch` nothing, so the service fetches the data itself.

Where it sends it: by default to an in-process service (`create_app()` with this machine's
configuration, `--config`, plus the demo clinic's local codes), signed as the sandbox signs
(ES384, header `kid` and `jku`, claims `iss`, `aud` = the exact URL called, `exp` = `iat` + 300 s,
`jti` a UUID) with a key made for the run, configured inline and trusted for this FHIR server
only; with `--service URL` to a running service, signed with `--token` (a ready JWT) or
`--sign-with` (a PEM key, `--issuer`, `--kid`, optionally `--jku`), else unsigned (the service
must run with `--allow-unsigned` or `--sandbox`).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from cds_service.client_token import ClientSigner
    from cds_service.knowledge import Knowledge

HELP = "build a CDS Hooks request like the sandbox, call the service, print the cards"
HOOKS = ("order-sign", "order-select", "patient-view")
FHIR_JSON = "application/fhir+json"
PAGE_CAP = 20  # pages followed per prefetch template
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
PILL = "{pill}"  # the UCUM annotation the sandbox sends as a dose unit (code only, no unit)
CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
TRY_ISSUER = "urn:rheum-cds:try"
TRY_JKU = "https://rheum-cds.invalid/try/jwks.json"  # named in the header, never fetched


class TryError(RuntimeError):
    """Something the user can fix (unknown drug, unreachable server...); the message says what."""


# --------------------------------------------------------------------------- the draft order


def _drug_codes(knowledge: Knowledge, drug_id: str) -> list[tuple[str, str | None]]:
    """RxNorm codes (code, implied route) the value sets list for a drug, in file order."""
    vs = knowledge.vs
    return [
        (code, med.route)
        for (family, code), med in vs.med_codes.items()
        if family == "rxnorm" and med.drug == drug_id
    ]


def _route_coding(knowledge: Knowledge, route: str | None) -> dict[str, str] | None:
    if route is None:
        return None
    for (family, code), name in knowledge.vs.route_codes.items():
        if family == "snomed" and name == route:
            return {"system": SNOMED, "code": code}
    return None


@dataclass(frozen=True)
class Product:
    """A product code (RxNorm SCD) of the value sets: code, name, mg per tablet/capsule."""

    code: str
    display: str
    unit_mg: float


def product_for_dose(knowledge: Knowledge, drug_id: str, dose_mg: float) -> tuple[Product, int]:
    """The listed product of `drug_id` giving `dose_mg` in the fewest whole units, and how many
    (the sandbox orders a product and a "Number" of tablets). Raises LookupError if none."""
    table = knowledge.files.get("valuesets/medications", {}).get(drug_id, {})
    best: tuple[Product, int] | None = None
    for entry in table.get("rxnorm", []) if isinstance(table, dict) else []:
        mg = entry.get("mg") if isinstance(entry, dict) else None
        if not isinstance(mg, int | float) or mg <= 0:
            continue
        count = dose_mg / mg
        if abs(count - round(count)) > 1e-9 or round(count) < 1:
            continue
        product = Product(str(entry["code"]), str(entry.get("display", "")), float(mg))
        if best is None or round(count) < best[1]:
            best = (product, round(count))
    if best is None:
        raise LookupError(drug_id)
    return best


def _timing(per_day: float) -> dict[str, Any]:
    if per_day >= 1:
        return {"frequency": round(per_day), "period": 1, "periodUnit": "d"}
    days = round(1 / per_day)
    if days % 7 == 0:
        return {"frequency": 1, "period": days // 7, "periodUnit": "wk"}
    return {"frequency": 1, "period": days, "periodUnit": "d"}


def draft_medication_request(
    knowledge: Knowledge,
    patient_id: str,
    drug: str,
    dose_mg: float | None = None,
    per_day: float | None = None,
    reason: tuple[str, str, str] | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """A draft MedicationRequest for `drug` (a name in any language the value sets know)."""
    if (dose_mg is not None and dose_mg <= 0) or (per_day is not None and per_day <= 0):
        raise TryError("--dose and --per-day must be positive numbers")
    vs = knowledge.vs
    hit = vs.medication_in_text(drug)
    if hit is None:
        raise TryError(f"drug {drug!r} is not in the service's medication value sets")
    route = vs.route_in_text(drug) or hit.route or vs.drugs[hit.drug].route
    product: tuple[Product, int] | None = None
    if dose_mg is not None and vs.route_in_text(drug) is None:
        try:
            product = product_for_dose(knowledge, hit.drug, dose_mg)
        except LookupError:
            product = None
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"try-{uuid.uuid4().hex[:12]}",
        "status": "draft",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": (today or date.today()).isoformat(),
    }
    dosage: dict[str, Any] = {}
    if per_day is not None:
        dosage["timing"] = {"repeat": _timing(per_day)}
    if product is not None:  # as the sandbox orders it: a product and a number of tablets
        scd, count = product
        coding = [{"display": scd.display, "system": RXNORM, "code": scd.code}]
        medication = {"text": scd.display, "coding": coding}
        dosage["doseAndRate"] = [{"doseQuantity": {"value": count, "system": UCUM, "code": PILL}}]
    else:
        codes = _drug_codes(knowledge, hit.drug)
        matching = [c for c, r in codes if r == route] or [c for c, r in codes if r is None]
        medication = {
            "coding": [{"system": RXNORM, "code": matching[0]}] if matching else [],
            "text": drug,
        }
        route_coding = _route_coding(knowledge, route)
        if route_coding:
            dosage["route"] = {"coding": [route_coding]}
        if dose_mg is not None:
            dosage["doseAndRate"] = [
                {"doseQuantity": {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}}
            ]
    if dosage:
        order["dosageInstruction"] = [dosage]
    order["dispenseRequest"] = {
        "expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}
    }
    order["intent"] = "order"
    order["category"] = [{"coding": [{"system": CATEGORY, "code": "community"}]}]
    order["medicationCodeableConcept"] = medication
    if reason:
        system, code, display = reason
        reason_coding = {"system": system, "code": code}
        if display:
            reason_coding["display"] = display
        order["reasonCode"] = [{"coding": [reason_coding]}]
    return order


def parse_reason(text: str | None) -> tuple[str, str, str] | None:
    """`--reason SYSTEM|CODE` (display optional after a second `|`)."""
    if not text:
        return None
    parts = text.split("|")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise TryError("--reason must be SYSTEM|CODE, e.g. http://snomed.info/sct|69896004")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


# --------------------------------------------------------------------------- the hook request


def hook_context(
    hook: str, patient_id: str, user_id: str, draft: dict[str, Any] | None
) -> dict[str, Any]:
    context: dict[str, Any] = {"userId": user_id, "patientId": patient_id}
    if hook in ("order-sign", "order-select"):
        if draft is None:
            raise TryError(f"{hook} needs --drug")
        context["draftOrders"] = {"resourceType": "Bundle", "entry": [{"resource": draft}]}
        if hook == "order-select":
            context["selections"] = [f"MedicationRequest/{draft['id']}"]
    return context


def expand_template(template: str, context: Mapping[str, Any]) -> str:
    """Replace `{{context.x}}` / `{{userPractitionerId}}`-style tokens of a prefetch template."""
    out = template
    for key, value in context.items():
        if isinstance(value, str):
            out = out.replace(f"{{{{context.{key}}}}}", quote(value, safe="/"))
    user = str(context.get("userId", ""))
    bare_user = user.split("/", 1)[-1]
    for token in ("userPractitionerId", "userPatientId", "userRelatedPersonId"):
        out = out.replace(f"{{{{{token}}}}}", quote(bare_user, safe=""))
    return out


def fetch_prefetch(
    templates: Mapping[str, str],
    fhir: str,
    context: Mapping[str, Any],
    session: Any,
    timeout: float = 60.0,
    page_cap: int = PAGE_CAP,
) -> dict[str, Any]:
    """Every prefetch key fetched from the FHIR server; searches merged over all pages.

    A key whose read answers 404 is sent as null (the EHR looked and found nothing); a key
    that fails otherwise is left out, so the service fetches it itself (CDS Hooks 2.0).
    """
    base = fhir.rstrip("/")
    prefetch: dict[str, Any] = {}
    for key, template in templates.items():
        url = f"{base}/{expand_template(template, context)}"
        try:
            response = session.get(url, timeout=timeout, headers={"Accept": FHIR_JSON})
        except Exception:  # noqa: BLE001 - any transport failure: leave the key out
            continue
        if response.status_code == 404:
            prefetch[key] = None
            continue
        if response.status_code != 200:
            continue
        value = response.json()
        if value.get("resourceType") == "Bundle":
            value = _all_pages(value, session, timeout, page_cap)
        prefetch[key] = value
    return prefetch


def _all_pages(bundle: dict[str, Any], session: Any, timeout: float, cap: int) -> dict[str, Any]:
    entries = list(bundle.get("entry") or [])
    page, pages = bundle, 1
    while pages < cap:
        links = page.get("link") or []
        nxt = next((x.get("url") for x in links if x.get("relation") == "next"), None)
        if not nxt:
            break
        response = session.get(nxt, timeout=timeout, headers={"Accept": FHIR_JSON})
        if response.status_code != 200:
            break
        page = response.json()
        entries.extend(page.get("entry") or [])
        pages += 1
    merged = {k: v for k, v in bundle.items() if k not in ("link", "entry")}
    merged["total"] = len(entries)
    merged["entry"] = entries
    return merged


def hook_request(
    hook: str,
    fhir: str,
    context: dict[str, Any],
    prefetch: dict[str, Any] | None,
    fhir_token: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hookInstance": str(uuid.uuid4()),
        "hook": hook,
        "fhirServer": fhir.rstrip("/"),
        "context": context,
    }
    if fhir_token:
        body["fhirAuthorization"] = {
            "access_token": fhir_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "rheum-cds-try",
        }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


# --------------------------------------------------------------------------- the service


@dataclass
class ServiceAnswer:
    status: int
    body: Any
    seconds: float = 0.0


@dataclass
class Client:
    """Where hook requests go: `discovery()` and `call(service_id, body, language)`."""

    discovery: Callable[[], dict[str, Any]]
    call: Callable[[str, dict[str, Any], str | None], ServiceAnswer]
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def demo_local_codes() -> dict[str, Any]:
    """The demo clinic's local laboratory codes ([codes] of a configuration)."""
    from cds_service.demo_data import local_codes

    return local_codes()


TOKEN_LIFETIME_S = 300  # the sandbox's exp - iat


def sandbox_style_token(signer: ClientSigner, url: str) -> str:
    """A client JWT for one call, as the sandbox signs it: the signer's alg (ES384 for the keys
    made here), header kid (and jku when the signer has one), claims iss, aud = the exact URL
    called, iat, exp = iat + 300 s, jti a UUID."""
    return signer.token(url, lifetime_s=TOKEN_LIFETIME_S, jti=str(uuid.uuid4()))


def in_process_client(
    fhir: str,
    config_path: str | None = None,
    storage_url: str | None = None,
    log_level: str = "WARNING",
) -> Client:
    """An in-process service (Flask test client) that trusts a key made for this run.

    The key's client may name only `fhir` as fhirServer; calls are signed ES384 with `aud`
    the exact endpoint URL, as an EHR would sign them.
    """
    import time

    from cds_service.app import create_app
    from cds_service.client_token import ClientSigner
    from cds_service.config import TrustedClient, load_config
    from cds_service.demo_data import with_demo_codes
    from cds_service.knowledge import load_knowledge

    config = load_config(config_path)
    local_codes = with_demo_codes(config.local_codes)
    # The key is configured inline; its jku is allowed but never fetched (the inline key wins).
    signer = ClientSigner.generate("ES384", issuer=TRY_ISSUER, kid="rheum-cds-try", jku=TRY_JKU)
    client = TrustedClient(
        issuer=TRY_ISSUER,
        jwks=signer.jwks(),
        jku_allowed=(TRY_JKU,),
        fhir_servers=(fhir.rstrip("/"),),
    )
    config = replace(
        config,
        clients=(*config.clients, client),
        local_codes=local_codes,
        storage_url=storage_url or "sqlite://",
        base_url="http://localhost",
        patient_hash_key=config.patient_hash_key or secrets.token_hex(16),
        log_level=log_level,
    )
    knowledge = load_knowledge(overrides=config.rule_overrides, local_codes=local_codes)
    app = create_app(config, knowledge)
    test_client = app.test_client()

    def discovery() -> dict[str, Any]:
        return test_client.get("/cds-services").get_json()

    def call(service_id: str, body: dict[str, Any], language: str | None) -> ServiceAnswer:
        path = f"/cds-services/{service_id}"
        headers = {"Authorization": f"Bearer {sandbox_style_token(signer, config.base_url + path)}"}
        if language:
            headers["Accept-Language"] = language
        started = time.monotonic()
        response = test_client.post(path, json=body, headers=headers)
        seconds = time.monotonic() - started
        try:
            answer = response.get_json()
        except Exception:  # noqa: BLE001 - not JSON: show the text
            answer = response.get_data(as_text=True)
        response.close()
        return ServiceAnswer(response.status_code, answer, seconds)

    return Client(
        discovery,
        call,
        "in-process service",
        {"app": app, "knowledge": knowledge, "signer": signer},
    )


def remote_client(
    service: str,
    token: str | None = None,
    sign_with: str | None = None,
    issuer: str | None = None,
    kid: str | None = None,
    timeout: float = 60.0,
    jku: str | None = None,
) -> Client:
    """A running service at `service` (its base URL, without /cds-services)."""
    import time

    import requests

    base = service.rstrip("/").removesuffix("/cds-services")
    session = requests.Session()
    signer = None
    if sign_with:
        from cds_service.client_token import ClientSigner

        if not issuer or not kid:
            raise TryError("--sign-with needs --issuer and --kid")
        signer = ClientSigner.from_pem(sign_with, issuer=issuer, kid=kid, jku=jku)

    def auth(url: str) -> dict[str, str]:
        if signer is not None:
            return {"Authorization": f"Bearer {sandbox_style_token(signer, url)}"}
        if token:
            return {"Authorization": f"Bearer {token}"}
        return {}

    def discovery() -> dict[str, Any]:
        response = session.get(f"{base}/cds-services", timeout=timeout)
        if response.status_code != 200:
            raise TryError(f"{base}/cds-services answered HTTP {response.status_code}")
        return response.json()

    def call(service_id: str, body: dict[str, Any], language: str | None) -> ServiceAnswer:
        url = f"{base}/cds-services/{service_id}"
        headers = auth(url)
        if language:
            headers["Accept-Language"] = language
        started = time.monotonic()
        response = session.post(url, json=body, headers=headers, timeout=timeout)
        seconds = time.monotonic() - started
        try:
            answer: Any = response.json()
        except ValueError:
            answer = response.text[:2000]
        return ServiceAnswer(response.status_code, answer, seconds)

    return Client(discovery, call, f"service at {base}")


def service_for_hook(discovery: dict[str, Any], hook: str) -> dict[str, Any]:
    for service in discovery.get("services", []):
        if service.get("hook") == hook:
            return service
    raise TryError(f"the service offers no {hook} service")


def findings_of(cards: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(rule id, severity) of every finding and ("id", "not-assessed") of every not-assessed
    entry in the cards' machine-readable extension, sorted."""
    out = set()
    for card in cards:
        data = (card.get("extension") or {}).get("org.rheum-cds") or {}
        for finding in data.get("findings", []):
            out.add((str(finding.get("id")), str(finding.get("severity"))))
        for item in data.get("notAssessed", []):
            out.add((str(item.get("id")), "not-assessed"))
    return sorted(out)


def run_try(
    client: Client,
    *,
    fhir: str,
    patient_id: str,
    hook: str = "order-sign",
    drug: str | None = None,
    dose_mg: float | None = None,
    per_day: float | None = None,
    reason: tuple[str, str, str] | None = None,
    prefetch: bool = True,
    language: str | None = None,
    user_id: str = "Practitioner/example",
    fhir_token: str | None = None,
    knowledge: Knowledge | None = None,
    session: Any = None,
) -> tuple[dict[str, Any], ServiceAnswer]:
    """Build the request, resolve prefetch if asked, call the service: (request, answer)."""
    import requests

    from cds_service.knowledge import load_knowledge

    discovery = client.discovery()
    service = service_for_hook(discovery, hook)
    draft = None
    if hook != "patient-view":
        if not drug:
            raise TryError(f"{hook} needs --drug")
        knowledge = knowledge or client.extra.get("knowledge") or load_knowledge()
        draft = draft_medication_request(knowledge, patient_id, drug, dose_mg, per_day, reason)
    context = hook_context(hook, patient_id, user_id, draft)
    values = None
    if prefetch:
        session = session or requests.Session()
        if fhir_token:
            session.headers["Authorization"] = f"Bearer {fhir_token}"
        values = fetch_prefetch(service.get("prefetch") or {}, fhir, context, session)
    body = hook_request(hook, fhir, context, values, fhir_token)
    return body, client.call(service["id"], body, language)


# --------------------------------------------------------------------------- the command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fhir", required=True, metavar="URL", help="FHIR R4 base URL")
    parser.add_argument("--patient", required=True, metavar="ID", help="Patient id")
    parser.add_argument("--drug", metavar="NAME", help="drug name (any language, generic or brand)")
    parser.add_argument("--dose", type=float, metavar="MG", help="dose per administration, mg")
    parser.add_argument("--per-day", type=float, metavar="N", help="administrations per day")
    parser.add_argument(
        "--reason", metavar="SYSTEM|CODE", help="indication on the order (reasonCode)"
    )
    parser.add_argument("--hook", choices=HOOKS, default="order-sign")
    parser.add_argument("--service", metavar="URL", help="a running service (default: in-process)")
    parser.add_argument(
        "--prefetch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send the prefetch, fetched from the FHIR server (default), or none",
    )
    parser.add_argument("--lang", metavar="L", help="Accept-Language, e.g. ja, zh-TW")
    parser.add_argument("--token", metavar="JWT", help="bearer JWT for --service")
    parser.add_argument("--sign-with", metavar="KEYFILE", help="PEM key to sign calls to --service")
    parser.add_argument("--issuer", metavar="ISS", help="issuer for --sign-with")
    parser.add_argument("--kid", metavar="KID", help="key id for --sign-with")
    parser.add_argument("--jku", metavar="URL", help="jku header for --sign-with (optional)")
    parser.add_argument("--fhir-token", metavar="T", help="access token for the FHIR server")
    parser.add_argument("--user", default="Practitioner/example", help="context.userId")
    parser.add_argument("--config", metavar="FILE", help="configuration of the in-process service")
    parser.add_argument("--json", action="store_true", help="print the request and the answer")
    parser.add_argument(
        "--verbose", action="store_true", help="show the in-process service's log lines"
    )


def _print_answer(answer: ServiceAnswer, request: dict[str, Any], args: argparse.Namespace) -> None:
    """The cards as terminal text (the printer of `rheum-cds demo`), then the rule ids."""
    import os

    from cards.catalogue import catalogue
    from cards.language import choose_language
    from cds_service.commands.demo import format_card

    cards = answer.body.get("cards", []) if isinstance(answer.body, dict) else []
    keys = sorted(request.get("prefetch") or {})
    sent = f"prefetch: {', '.join(keys)}" if args.prefetch else "no prefetch (service fetches)"
    ms = answer.seconds * 1000
    print(f"{args.hook} for Patient/{args.patient}: HTTP {answer.status}, {ms:.0f} ms, {sent}")
    if answer.status != 200:
        body = answer.body
        print(body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=1))
        return
    if not cards:
        print("no cards")
        return
    cat = catalogue(choose_language(args.lang))
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    for card in cards:
        print()
        print(format_card(card, cat, colour))
    rules = ", ".join(f"{rule} ({sev})" for rule, sev in findings_of(cards))
    print(f"\nrule ids: {rules or 'none'}")


def main(args: argparse.Namespace) -> int:
    try:
        reason = parse_reason(args.reason)
        if args.service:
            client = remote_client(
                args.service, args.token, args.sign_with, args.issuer, args.kid, jku=args.jku
            )
        else:
            level = "INFO" if args.verbose else "WARNING"
            client = in_process_client(args.fhir, args.config, log_level=level)
        request, answer = run_try(
            client,
            fhir=args.fhir,
            patient_id=args.patient.removeprefix("Patient/"),
            hook=args.hook,
            drug=args.drug,
            dose_mg=args.dose,
            per_day=args.per_day,
            reason=reason,
            prefetch=args.prefetch,
            language=args.lang,
            user_id=args.user,
            fhir_token=args.fhir_token,
        )
    except TryError as exc:
        print(f"rheum-cds try: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {"request": request, "status": answer.status, "response": answer.body},
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        _print_answer(answer, request, args)
    return 0 if answer.status == 200 else 1
