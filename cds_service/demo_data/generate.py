"""Turn one patient description of patients.toml into a FHIR R4 transaction Bundle.

Pure functions: the anchor date is an argument, nothing is read from the clock or the disk.
Every resource gets a stable id derived from the patient id, the kind of entry and its day,
and every entry is a PUT to that id, so that a FHIR server stores the same chart however
often it is loaded.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
LOCAL_DRUG = "http://example.org/rheum-cds/demo-local-drug-code"
MRN = "http://example.org/rheum-cds/demo-mrn"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NAMESPACE = uuid.UUID("6f1c2b0e-3f4d-5c1a-9e2b-7a8d9c0b1e2f")
UNIT_TEXT = {"wk": "week", "d": "day"}


def _fhir_id(*parts: str) -> str:
    return "-".join(parts).replace("_", "-").lower()[:64]


def _when(anchor: date, day: int, hour: int = 9) -> str:
    return f"{(anchor + timedelta(days=day)).isoformat()}T{hour:02d}:30:00Z"


def _day(anchor: date, day: int) -> str:
    return (anchor + timedelta(days=day)).isoformat()


def _birth_date(anchor: date, age: int, days_before: int) -> str:
    try:
        base = anchor.replace(year=anchor.year - age)
    except ValueError:  # 29 February
        base = anchor.replace(year=anchor.year - age, day=28)
    return (base - timedelta(days=days_before)).isoformat()


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    kind, rid = resource["resourceType"], resource["id"]
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{rid}')}",
        "resource": resource,
        "request": {"method": "PUT", "url": f"{kind}/{rid}"},
    }


def _patient(spec: dict[str, Any], anchor: date) -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official", "family": spec["family"], "given": [spec["given"]]}
    language = spec.get("language", "en")
    if language != "en":
        name["text"] = f"{spec['family']}{spec['given']}"
    return {
        "resourceType": "Patient",
        "id": spec["id"],
        "meta": {"tag": [{"system": "http://example.org/rheum-cds", "code": "demo"}]},
        "identifier": [{"system": MRN, "value": spec["id"].upper()}],
        "active": True,
        "name": [name],
        "gender": spec["gender"],
        "birthDate": _birth_date(anchor, spec["age"], spec.get("birthday", 0)),
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": language}]},
                "preferred": True,
            }
        ],
    }


def _encounter(pid: str, day: int, anchor: date, reason: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": _fhir_id(pid, "enc", f"d{abs(day)}"),
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": reason}],
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": _when(anchor, day, 9), "end": _when(anchor, day, 10)},
    }


def _quantity(value: float, unit: str, unit_text: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit_text or unit, "system": UCUM, "code": unit}


def _interpretation(value: float, low: float | None, high: float | None) -> str:
    if high is not None and value > high:
        return "H"
    if low is not None and value < low:
        return "L"
    return "N"


def _observation(
    pid: str, key: str, raw: Any, day: int, anchor: date, catalogue: dict[str, Any]
) -> dict[str, Any]:
    spec = catalogue["observation"][key]
    system = spec.get("system", LOINC)
    category = spec.get("category", "laboratory")
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _fhir_id(pid, key, f"d{abs(day)}"),
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
        "code": {
            "coding": [{"system": system, "code": spec["code"], "display": spec["display"]}],
            "text": spec["display"],
        },
        "subject": {"reference": f"Patient/{pid}"},
        "encounter": {"reference": f"Encounter/{_fhir_id(pid, 'enc', f'd{abs(day)}')}"},
        "effectiveDateTime": _when(anchor, day),
        "issued": _when(anchor, day, 15).replace("Z", ".000Z"),
    }
    if "components" in spec:
        obs["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "valueQuantity": _quantity(value, spec["unit"]),
            }
            for code, display, value in zip(
                spec["components"], spec["component_displays"], raw, strict=True
            )
        ]
        return obs
    if spec.get("coded"):
        answer = catalogue["answer"][raw]
        obs["valueCodeableConcept"] = {"coding": [dict(answer)], "text": answer["display"]}
        if category == "laboratory":
            code = "POS" if raw == "positive" else "NEG"
            obs["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": code}]}]
        return obs
    if isinstance(raw, dict):  # value with its own unit (and reference range)
        value, unit, unit_text = raw["value"], raw["unit"], raw.get("unit_text")
        low, high = raw.get("low"), raw.get("high")
    else:
        value, unit, unit_text = raw, spec["unit"], spec.get("unit_text")
        low, high = spec.get("low"), spec.get("high")
    obs["valueQuantity"] = _quantity(value, unit, unit_text)
    if low is not None or high is not None:
        ref: dict[str, Any] = {}
        if low is not None:
            ref["low"] = _quantity(low, unit, unit_text)
        if high is not None:
            ref["high"] = _quantity(high, unit, unit_text)
        obs["referenceRange"] = [ref]
        code = _interpretation(value, low, high)
        obs["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": code}]}]
    return obs


def _condition(pid: str, n: int, item: dict[str, Any], anchor: date, cat: dict[str, Any]):
    also: list[dict[str, str]] = []
    if "c" in item:
        known = cat["condition"][item["c"]]
        system, code, display = known.get("system", SNOMED), known["code"], known["display"]
        also = [dict(c) for c in known.get("also", [])]
    else:
        system, code, display = item["system"], item["code"], item["display"]
    status = item.get("status", "active")
    cond: dict[str, Any] = {
        "resourceType": "Condition",
        "id": _fhir_id(pid, "cond", str(n)),
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": {
            "coding": [{"system": system, "code": code, "display": display}, *also],
            "text": display,
        },
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": _day(anchor, item["onset"]),
        "recordedDate": _day(anchor, item["onset"] + 2),
    }
    if "abated" in item:
        cond["abatementDateTime"] = _day(anchor, item["abated"])
    return cond


def _medication_request(pid: str, n: int, item: dict[str, Any], anchor: date, cat: dict[str, Any]):
    if "m" in item:
        known = cat["medication"][item["m"]]
        codings = [{"system": RXNORM, "code": known["rxnorm"], "display": known["display"]}]
        if "ingredient" in known:
            codings.append({"system": RXNORM, "code": known["ingredient"]})
        text, route = known["display"], item.get("route", known["route"])
    else:
        codings = [{"system": LOCAL_DRUG, "code": item["local"], "display": item["text"]}]
        text, route = item["text"], item["route"]
    dose_unit = item.get("dose_unit", "mg")
    unit_code = "mg" if dose_unit == "mg" else f"{{{dose_unit}}}"
    every = f"{item['period']} {UNIT_TEXT[item['unit']]}" + ("s" if item["period"] > 1 else "")
    route_entry = cat["route"][route]
    return {
        "resourceType": "MedicationRequest",
        "id": _fhir_id(pid, "medrq", str(n)),
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"coding": codings, "text": text},
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": _day(anchor, item["start"]),
        "dosageInstruction": [
            {
                "text": f"{item['dose']:g} {dose_unit} {item['freq']} time(s) every {every}",
                "timing": {
                    "repeat": {
                        "frequency": item["freq"],
                        "period": item["period"],
                        "periodUnit": item["unit"],
                    }
                },
                "route": {"coding": [{"system": SNOMED, **route_entry}]},
                "doseAndRate": [{"doseQuantity": _quantity(item["dose"], unit_code, dose_unit)}],
            }
        ],
    }


def _immunization(pid: str, n: int, item: dict[str, Any], anchor: date, cat: dict[str, Any]):
    vaccine = cat["vaccine"][item["v"]]
    return {
        "resourceType": "Immunization",
        "id": _fhir_id(pid, "imm", str(n)),
        "status": "completed",
        "vaccineCode": {
            "coding": [{"system": CVX, "code": vaccine["cvx"], "display": vaccine["display"]}],
            "text": vaccine["display"],
        },
        "patient": {"reference": f"Patient/{pid}"},
        "occurrenceDateTime": _when(anchor, item["day"], 11),
        "primarySource": True,
    }


def _observation_days(
    spec: dict[str, Any], defaults: dict[str, Any]
) -> dict[int, tuple[str, dict[str, Any]]]:
    """day -> (encounter reason, {observation key: value}); visits override routine values."""
    days: dict[int, tuple[str, dict[str, Any]]] = {}

    def add(day: int, reason: str, values: dict[str, Any]) -> None:
        old_reason, old = days.get(day, (reason, {}))
        days[day] = (old_reason, {**old, **values})

    for day in spec.get("labs_on", []):
        add(day, "laboratory tests", {**defaults["labs"], **spec.get("labs", {})})
    for day in spec.get("lipids_on", []):
        add(day, "laboratory tests", dict(defaults["lipids"]))
    if "screening_on" in spec:
        values = {**defaults["screening"], **spec.get("screening", {})}
        add(spec["screening_on"], "pre-treatment screening", values)
    for visit in spec.get("visit", []):
        values = {k: v for k, v in visit.items() if k != "day"}
        day = visit["day"]
        if day in days:
            days[day] = ("clinic visit", {**days[day][1], **values})
        else:
            add(day, "clinic visit", values)
    return days


def build_bundle(
    spec: dict[str, Any], defaults: dict[str, Any], catalogue: dict[str, Any], anchor: date
) -> dict[str, Any]:
    """The transaction Bundle of one demo patient, dated relative to `anchor`."""
    pid = spec["id"]
    resources: list[dict[str, Any]] = [_patient(spec, anchor)]
    for n, item in enumerate(spec.get("conditions", []), start=1):
        resources.append(_condition(pid, n, item, anchor, catalogue))
    days = _observation_days(spec, defaults)
    for day in sorted(days):
        reason, values = days[day]
        resources.append(_encounter(pid, day, anchor, reason))
        for key, raw in values.items():
            resources.append(_observation(pid, key, raw, day, anchor, catalogue))
    for n, item in enumerate(spec.get("meds", []), start=1):
        resources.append(_medication_request(pid, n, item, anchor, catalogue))
    for n, item in enumerate(spec.get("vaccines", []), start=1):
        resources.append(_immunization(pid, n, item, anchor, catalogue))
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(r) for r in resources],
    }
