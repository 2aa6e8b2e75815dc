"""Independent clinical scenarios: charts built the way EHRs and Synthea send them, posted to
the HTTP app as CDS Hooks requests with prefetch, and the cards read back by rule id.

Dates are relative to today so that recency windows (12 months, 90 days, 6 months) hold."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, timedelta
from typing import Any

from flask import Flask

PID = "scenario-patient"
SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

_ids = itertools.count(1)


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def birth_date_for_age(years: int, *, days_after_birthday: int = 0) -> str:
    today = date.today() - timedelta(days=days_after_birthday)
    return today.replace(year=today.year - years).isoformat()


def condition(
    system: str | None,
    code: str | None,
    display: str | None = None,
    *,
    text: str | None = None,
    onset_days_ago: int | None = 400,
    status: str = "active",
    verification: str | None = "confirmed",
    abatement_days_ago: int | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"cond-{next(_ids)}",
        "subject": {"reference": f"Patient/{PID}"},
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
        "code": {},
    }
    if verification:
        resource["verificationStatus"] = {
            "coding": [{"system": VERIFICATION, "code": verification}]
        }
    if system and code:
        coding = {"system": system, "code": code}
        if display:
            coding["display"] = display
        resource["code"]["coding"] = [coding]
    if text or display:
        resource["code"]["text"] = text or display
    if onset_days_ago is not None:
        resource["onsetDateTime"] = days_ago(onset_days_ago)
    if abatement_days_ago is not None:
        resource["abatementDateTime"] = days_ago(abatement_days_ago)
    return resource


def quantity(code: str, value: float, unit: str, *, days: int = 20, display: str | None = None):
    coding = {"system": LOINC, "code": code}
    if display:
        coding["display"] = display
    return {
        "resourceType": "Observation",
        "id": f"obs-{next(_ids)}",
        "status": "final",
        "subject": {"reference": f"Patient/{PID}"},
        "code": {"coding": [coding]},
        "effectiveDateTime": days_ago(days),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def coded(code: str, answer: tuple[str, str, str], *, days: int = 20) -> dict[str, Any]:
    system, answer_code, answer_display = answer
    return {
        "resourceType": "Observation",
        "id": f"obs-{next(_ids)}",
        "status": "final",
        "subject": {"reference": f"Patient/{PID}"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": days_ago(days),
        "valueCodeableConcept": {
            "coding": [{"system": system, "code": answer_code, "display": answer_display}]
        },
    }


POSITIVE = (SCT, "10828004", "Positive")
NEGATIVE = (SCT, "260385009", "Negative")
CURRENT_SMOKER = (SCT, "449868002", "Smokes tobacco daily (finding)")
NEVER_SMOKER = (SCT, "266919005", "Never smoked tobacco (finding)")


def medication(
    coding: list[tuple[str, str, str]] | None,
    *,
    text: str | None = None,
    dose_mg: float | None = None,
    per_day: int = 1,
    status: str = "active",
    rid: str | None = None,
    resource_type: str = "MedicationRequest",
    period_unit: str = "d",
    period: float = 1,
    dose_unit: str = "mg",
) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if coding:
        concept["coding"] = [{"system": s, "code": c, "display": d} for s, c, d in coding]
    if text:
        concept["text"] = text
    resource: dict[str, Any] = {
        "resourceType": resource_type,
        "id": rid or f"med-{next(_ids)}",
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{PID}"},
        "authoredOn": days_ago(60),
        "medicationCodeableConcept": concept,
    }
    if dose_mg is not None:
        resource["dosageInstruction"] = [
            {
                "timing": {
                    "repeat": {"frequency": per_day, "period": period, "periodUnit": period_unit}
                },
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": dose_mg,
                            "unit": dose_unit,
                            "system": UCUM,
                            "code": dose_unit,
                        }
                    }
                ],
            }
        ]
    return resource


def draft(coding, *, text=None, dose_mg=None, per_day=1, reason=None, **kw) -> dict[str, Any]:
    resource = medication(coding, text=text, dose_mg=dose_mg, per_day=per_day, status="draft", **kw)
    if reason:
        system, code, display = reason
        resource["reasonCode"] = [
            {"coding": [{"system": system, "code": code, "display": display}]}
        ]
    return resource


def tofacitinib(mg: float = 5, per_day: int = 2, **kw) -> dict[str, Any]:
    return draft(
        [(RX, "1357541", "tofacitinib 5 MG Oral Tablet")],
        text=f"tofacitinib {mg:g} mg",
        dose_mg=mg,
        per_day=per_day,
        **kw,
    )


def baricitinib(mg: float = 4, **kw) -> dict[str, Any]:
    # SCD product code with its RxNorm name, as Synthea and EHR order catalogues send it
    return draft(
        [(RX, "2047241", f"baricitinib {mg:g} MG Oral Tablet")],
        text=f"baricitinib {mg:g} mg tablet",
        dose_mg=mg,
        per_day=1,
        **kw,
    )


def upadacitinib(mg: float = 15, **kw) -> dict[str, Any]:
    return draft(
        [(RX, "2196098", f"upadacitinib {mg:g} MG 24HR Extended Release Oral Tablet")],
        text=f"upadacitinib {mg:g} mg extended-release tablet",
        dose_mg=mg,
        per_day=1,
        **kw,
    )


def infliximab(**kw) -> dict[str, Any]:
    return draft(
        [(RX, "191831", "infliximab")],
        text="infliximab 100 mg powder for infusion",
        dose_mg=5,
        per_day=1,
        period=8,
        period_unit="wk",
        dose_unit="mg/kg",
        **kw,
    )


RA_SCT = condition(SCT, "69896004", "Rheumatoid arthritis (disorder)", onset_days_ago=2000)


def baseline_labs(days: int = 20) -> list[dict[str, Any]]:
    """A clean recent work-up: CBC, liver, renal, lipids, TB, HBV, HCV (all unremarkable)."""
    return [
        quantity("718-7", 13.5, "g/dL", days=days),
        quantity("751-8", 4.2, "10*3/uL", days=days),
        quantity("731-0", 1.8, "10*3/uL", days=days),
        quantity("777-3", 250, "10*3/uL", days=days),
        quantity("6690-2", 7.1, "10*3/uL", days=days),
        quantity("1742-6", 22, "U/L", days=days),
        quantity("1920-8", 20, "U/L", days=days),
        quantity("2160-0", 0.8, "mg/dL", days=days),
        quantity("98979-8", 95, "mL/min/{1.73_m2}", days=days),
        quantity("2093-3", 190, "mg/dL", days=days),
        quantity("2085-9", 55, "mg/dL", days=days),
        quantity("13457-7", 110, "mg/dL", days=days),
        coded("71773-6", NEGATIVE, days=days),
        coded("5196-1", NEGATIVE, days=days),
        coded("16933-4", NEGATIVE, days=days),
        coded("16128-1", NEGATIVE, days=days),
        coded("2106-3", NEGATIVE, days=days),
        coded("16935-9", POSITIVE, days=days),
        coded("72166-2", NEVER_SMOKER, days=days),
        quantity("39156-5", 24, "kg/m2", days=days),
    ]


def recombinant_zoster(days: int = 200) -> dict[str, Any]:
    return {
        "resourceType": "Immunization",
        "id": f"imm-{next(_ids)}",
        "status": "completed",
        "patient": {"reference": f"Patient/{PID}"},
        "vaccineCode": {
            "coding": [{"system": CVX, "code": "187", "display": "zoster recombinant"}]
        },
        "occurrenceDateTime": days_ago(days),
    }


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"http://ehr.example/fhir/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


@dataclasses.dataclass
class Chart:
    """One patient. Defaults: a 45-year-old woman with RA, clean labs, vaccinated, non-smoker."""

    age: int = 45
    gender: str = "female"
    birth_date: str | None = None
    conditions: list[dict[str, Any]] = dataclasses.field(default_factory=lambda: [RA_SCT])
    observations: list[dict[str, Any]] = dataclasses.field(default_factory=baseline_labs)
    medications: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    immunizations: list[dict[str, Any]] = dataclasses.field(
        default_factory=lambda: [recombinant_zoster()]
    )

    def prefetch(self) -> dict[str, Any]:
        return {
            "patient": {
                "resourceType": "Patient",
                "id": PID,
                "gender": self.gender,
                "birthDate": self.birth_date
                or birth_date_for_age(self.age, days_after_birthday=30),
            },
            "conditions": searchset(self.conditions),
            "observations": searchset(self.observations),
            "medicationRequests": searchset(self.medications),
            "immunizations": searchset(self.immunizations),
        }


@dataclasses.dataclass
class Result:
    cards: list[dict[str, Any]]

    def _by_id(self, key: str) -> dict[str, dict[str, Any]]:
        """The items of every card's rheum-cds extension list `key`, by their id."""
        return {
            item["id"]: item
            for c in self.cards
            for item in c.get("extension", {}).get("org.rheum-cds", {}).get(key, [])
        }

    @property
    def findings(self) -> dict[str, dict[str, Any]]:
        return self._by_id("findings")

    @property
    def scores(self) -> dict[str, dict[str, Any]]:
        return self._by_id("scores")

    @property
    def not_assessed(self) -> dict[str, str]:
        return {rule: n.get("missing", "") for rule, n in self._by_id("notAssessed").items()}

    @property
    def text(self) -> str:
        return "\n".join(c["summary"] + "\n" + c.get("detail", "") for c in self.cards)

    def severity(self, rule: str) -> str:
        return self.findings[rule]["severity"]

    def values(self, rule: str) -> list[Any]:
        return [e.get("value") for e in self.findings[rule].get("evidence", [])]


def sign(
    app: Flask,
    chart: Chart,
    *orders: dict[str, Any],
    language: str = "en",
    hook: str = "order-sign",
) -> Result:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": f"0c1d2e3f-0000-4000-8000-{next(_ids):012d}",
        "context": {"userId": "Practitioner/scenario", "patientId": PID},
        "prefetch": chart.prefetch(),
    }
    if hook == "order-sign":
        body["context"]["draftOrders"] = {
            "resourceType": "Bundle",
            "entry": [{"resource": o} for o in (orders or (tofacitinib(),))],
        }
        service = "rheum-order-sign"
    else:
        service = "rheum-patient-view"
    response = app.test_client().post(
        f"/cds-services/{service}", json=body, headers={"Accept-Language": language}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return Result(response.json["cards"])


@dataclasses.dataclass
class Scenario:
    """One clinical situation: the chart, the order, the rules that must fire (with severity, or
    None for "any"), the rules that must stay quiet, and the label region."""

    name: str
    chart: Chart
    orders: tuple[dict[str, Any], ...] = ()
    fires: dict[str, str | None] = dataclasses.field(default_factory=dict)
    quiet: tuple[str, ...] = ()
    region: str = "EU"
    values: dict[str, Any] = dataclasses.field(default_factory=dict)  # rule -> evidence value
    source: str = ""  # where a clinician reads the expectation (label section, publication)

    def __str__(self) -> str:
        return self.name


def check(app_factory, scenario: Scenario) -> Result:
    app = app_factory(label_region=scenario.region)
    result = sign(app, scenario.chart, *scenario.orders)
    fired = result.findings
    for rule, severity in scenario.fires.items():
        assert rule in fired, f"{rule} did not fire; fired: {sorted(fired)}\n{result.text}"
        if severity is not None:
            assert fired[rule]["severity"] == severity, (rule, fired[rule])
    for rule in scenario.quiet:
        assert rule not in fired, f"{rule} fired: {fired[rule]}"
    for rule, value in scenario.values.items():
        assert value in result.values(rule), (rule, fired[rule]["evidence"])
    return result


def with_(chart: Chart | None = None, **changes: Any) -> Chart:
    base = chart or Chart()
    return dataclasses.replace(base, **changes)


def add(*, conditions=(), observations=(), medications=(), drop_obs=(), **kw: Any) -> Chart:
    """A default chart plus resources; `drop_obs` removes baseline labs by LOINC code."""
    obs = [
        o for o in baseline_labs() if o["code"]["coding"][0]["code"] not in set(drop_obs)
    ] + list(observations)
    return Chart(
        conditions=[RA_SCT, *conditions],
        observations=obs,
        medications=list(medications),
        **kw,
    )
