"""Build the condition expansions (valuesets/expansions/conditions.json) from their definitions.

Run from the repository root:

    python -m cds_service.knowledge.expansion.conditions            # rebuild the expansion file
    python -m cds_service.knowledge.expansion.conditions --check    # exit 1 if the file is stale
    python -m cds_service.knowledge.expansion.conditions --review   # print the look-alike review
    python -m cds_service.knowledge.expansion.conditions --refresh-gps DIR   # re-extract the GPS
    python -m cds_service.knowledge.expansion.conditions --refresh-r4x DIR   # re-extract R4's

Inputs, pinned and recorded in the output with their licence:

- SNOMED CT: the SNOMED International Global Patient Set (GPS, CC BY 4.0), September 2020
  release, as shipped in the npm package hl7.terminology.r4 7.0.1 (ValueSet-snomed-intl-gps);
  `inputs/snomed-gps-20200930.tsv` is its extract of disorders, findings, situations and events
  (regenerate with --refresh-gps from the unpacked package; the file's sha256 is checked). The
  GPS carries no hierarchy, so membership of a GPS concept is decided from its fully specified
  name by each concept's `definition` in valuesets/conditions.toml (`include` patterns, `exclude`
  patterns with the reason, explicit `codes` and `not_codes`). Codes outside the GPS that the
  concept lists by hand (`snomed = [...]`, each with its source) are kept as they are.
- SNOMED CT clinical findings outside the GPS: the expansions the FHIR R4 specification
  publishes of its clinical-finding value sets (every member a descendant of 404684003
  |Clinical finding|), npm package hl7.fhir.r4.examples 4.0.1 (CC0),
  Bundle-valueset-expansions.json; `inputs/fhir-r4-finding-expansions.tsv` is the extract of
  the codes that are not in the GPS (--refresh-r4x; sha256 checked). Their displays carry no
  semantic tag; the same definitions decide their membership as for the GPS.
- ICD-10-CM: the complete FY2026 tabular list (public domain, CDC/NCHS) from the PyPI package
  simple-icd-10-cm (data file icd10c-tabular-April-1-2026.xml; its sha256 is checked). The
  ICD-10-CM expansion of a concept is every code of the tabular list that the service's own
  matcher (knowledge/index.py, from the `icd10cm` / `icd10` entries of conditions.toml) maps to
  that concept, so the expansion is exactly what the service recognises.

Each GPS concept that a look-alike pattern (see LOOKALIKES) or a concept's `exclude` pattern
catches is listed in the output's `review` with the decision and its reason; an expansion
changes only through the definitions, and the test suite checks that the committed file is
what this script produces.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cds_service.knowledge.meaning import (
    GPS_TAGS,
    Definition,
    fsn_parts,
    judge,
    load_definitions,
    resolve,
)

KNOWLEDGE = Path(__file__).resolve().parent.parent
INPUTS = Path(__file__).resolve().parent / "inputs"
GPS_FILE = INPUTS / "snomed-gps-20200930.tsv"
R4X_FILE = INPUTS / "fhir-r4-finding-expansions.tsv"
CONDITIONS = KNOWLEDGE / "valuesets" / "conditions.toml"
CONCEPTS = KNOWLEDGE / "concepts.toml"
OUTPUT = KNOWLEDGE / "valuesets" / "expansions" / "conditions.json"

GPS_INPUT = {
    "id": "gps",
    "name": "SNOMED CT Global Patient Set (GPS), September 2020 (International Edition 20200731)",
    "package": "npm hl7.terminology.r4 7.0.1, package/ValueSet-snomed-intl-gps.json",
    "package_integrity": (
        "sha512-UamZUcARk/TEaJb7X0hDyANmC7bCv0Jof0u0uGIOB2O9VQX0uV45Vf4EyONHM6Sejv6q7sXEAzKAQsgw1Cld3A=="
    ),
    "licence": "CC BY 4.0 (SNOMED CT is (c) and (R) SNOMED International; no endorsement)",
    "extract": "cds_service/knowledge/expansion/inputs/snomed-gps-20200930.tsv",
}
R4X_INPUT = {
    "id": "r4x",
    "name": (
        "SNOMED CT clinical findings of the FHIR R4 value-set expansions"
        " (SNOMED CT Canadian Edition 20161031), codes outside the GPS"
    ),
    "package": "npm hl7.fhir.r4.examples 4.0.1, package/Bundle-valueset-expansions.json",
    "package_integrity": (
        "sha512-DXBdIZOeQaSKIgCU7w6HOC7sw/6BzylmipLkBW4f//pT+Bc94x+8LImwTdvaNThPJoOzpBzvxAzNqjeu3X/zLw=="
    ),
    "licence": (
        "FHIR specification CC0-1.0; SNOMED CT is (c) and (R) SNOMED International, published"
        " in the HL7 FHIR specification"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/fhir-r4-finding-expansions.tsv",
}
# The value sets of that bundle whose definition is `is-a 404684003 |Clinical finding|`
# (condition-code adds 160245001 |No current problems or disability|, which no concept takes).
R4X_VALUESETS = (
    "http://hl7.org/fhir/ValueSet/adverse-event-type",
    "http://hl7.org/fhir/ValueSet/clinical-findings",
    "http://hl7.org/fhir/ValueSet/condition-code",
    "http://hl7.org/fhir/ValueSet/condition-outcome",
    "http://hl7.org/fhir/ValueSet/flag-code",
    "http://hl7.org/fhir/ValueSet/manifestation-or-symptom",
    "http://hl7.org/fhir/ValueSet/medication-as-needed-reason",
)
CM_INPUT = {
    "id": "cm",
    "name": "ICD-10-CM FY2026 tabular list (April 1, 2026), CDC/NCHS",
    "package": "PyPI simple-icd-10-cm 1.5.0, simple_icd_10_cm/data/icd10c-tabular-April-1-2026.xml",
    "licence": "ICD-10-CM: public domain (US government work); package MIT",
}


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_gps(path: Path = GPS_FILE) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, name = line.split("\t")
        rows.append((code, name))
    return rows


def implied_closure(data: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    direct = {k: set(v) for k, v in data.get("_implies", {}).items() if k != "source"}
    out: dict[str, frozenset[str]] = {}
    for concept in direct:
        seen: set[str] = set()
        todo = list(direct[concept])
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo.extend(direct.get(c, ()))
        out[concept] = frozenset(seen)
    return out


def classify_gps(
    gps: Iterable[tuple[str, str]],
    defs: Mapping[str, Definition],
    implies: Mapping[str, frozenset[str]],
) -> tuple[dict[str, tuple[str, str]], list[list[str]], list[list[str]]]:
    """GPS code -> (concept or combination, name); the review rows; the combinations."""
    members: dict[str, tuple[str, str]] = {}
    review: list[list[str]] = []
    combined: list[list[str]] = []
    for code, name in gps:
        text, tag = fsn_parts(name)
        hits, excluded = judge(defs, text, tag, code)
        review += [[concept, code, name, "excluded: " + why] for concept, why in excluded]
        if not hits:
            continue
        concept = resolve(hits, implies)
        if "+" in concept:
            combined.append([concept, code, name, "combined: counts as each of them"])
        members[code] = (concept, name)
    return members, review, combined


def icd10cm_codes() -> tuple[list[tuple[str, str]], str]:
    """Every code of the ICD-10-CM tabular list (chapters and blocks left out), and the sha256
    of the package's data file."""
    import importlib.resources
    import warnings

    with warnings.catch_warnings():  # the package reads its data with a deprecated API
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

        cm.get_all_codes(True)  # loads the tabular list

    data = importlib.resources.files("simple_icd_10_cm") / "data"
    xml = next(p for p in data.iterdir() if p.name.startswith("icd10c-tabular"))
    digest = hashlib.sha256(xml.read_bytes()).hexdigest()
    rows = [
        (c, cm.get_description(c)) for c in cm.get_all_codes(True) if not cm.is_chapter_or_block(c)
    ]
    return rows, digest


def build(conditions: Mapping[str, Any], concepts: Mapping[str, Any]) -> dict[str, Any]:
    from cds_service.knowledge.loader import build_condition_index

    defs = load_definitions(conditions)
    implies = implied_closure(conditions)
    gps = read_gps()
    members, review, combined = classify_gps(gps, defs, implies)
    review += combined
    origin = dict.fromkeys(members, "gps")
    gps_codes = {code for code, _ in gps}
    r4x = [(code, name) for code, name in read_gps(R4X_FILE) if code not in gps_codes]
    r4x_members, r4x_review, r4x_combined = classify_gps(r4x, defs, implies)
    review += r4x_review + r4x_combined
    members.update(r4x_members)
    origin.update(dict.fromkeys(r4x_members, "r4x"))
    index = build_condition_index(conditions, set(concepts.get("condition", {})))
    cm_rows, cm_digest = icd10cm_codes()
    out_concepts: dict[str, dict[str, Any]] = {}
    for concept in concepts.get("condition", {}):
        out_concepts[concept] = {"snomed_roots": [], "snomed": [], "icd10cm": []}
    for concept, d in defs.items():
        out_concepts[concept]["snomed_roots"] = [[r["code"], r["display"]] for r in d.roots]
    hand = {}
    for concept, table in conditions.items():
        if concept.startswith("_") or not isinstance(table, Mapping):
            continue
        for item in table.get("snomed", []):
            hand[str(item["code"])] = (concept, item.get("display", ""), item["source"])
    for code, (concept, name) in members.items():
        out_concepts.setdefault(concept, {"snomed_roots": [], "snomed": [], "icd10cm": []})
        prior = hand.get(code)
        if prior is not None and prior[0] != concept:
            raise SystemExit(
                f"SNOMED {code} {name}: the definitions give {concept}, conditions.toml lists"
                f" it under {prior[0]}"
            )
        out_concepts[concept]["snomed"].append([code, name, origin[code]])
    for code, (concept, display, source) in hand.items():
        if code not in members:
            out_concepts[concept]["snomed"].append([code, display, source])
    for code, desc in cm_rows:
        concept = index.condition_concept("http://hl7.org/fhir/sid/icd-10-cm", code)
        if concept is not None:
            table = out_concepts.setdefault(
                concept, {"snomed_roots": [], "snomed": [], "icd10cm": []}
            )
            table["icd10cm"].append([code, desc, "cm"])
    for table in out_concepts.values():
        table["snomed"].sort(key=lambda r: int(r[0]) if r[0].isdigit() else 0)
    review.sort(key=lambda r: (r[0], r[1]))
    return {
        "format": 1,
        "generated_by": "python -m cds_service.knowledge.expansion.conditions",
        "inputs": [
            {**GPS_INPUT, "sha256": sha256_file(GPS_FILE)},
            {**R4X_INPUT, "sha256": sha256_file(R4X_FILE)},
            {**CM_INPUT, "sha256": cm_digest},
        ],
        "sources": {
            "gps": GPS_INPUT["name"],
            "r4x": R4X_INPUT["name"],
            "cm": CM_INPUT["name"],
        },
        "concepts": out_concepts,
        "review": review,
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """JSON with one code per line, so that a change of the expansion reads as a diff."""
    lines = ["{"]
    head = {k: v for k, v in doc.items() if k not in ("concepts", "review")}
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines.append('  "concepts": {')
    names = list(doc["concepts"])
    for i, concept in enumerate(names):
        table = doc["concepts"][concept]
        lines.append(f"    {json.dumps(concept)}: {{")
        keys = list(table)
        for j, key in enumerate(keys):
            rows = table[key]
            end = "," if j < len(keys) - 1 else ""
            if not rows:
                lines.append(f"      {json.dumps(key)}: []{end}")
                continue
            lines.append(f"      {json.dumps(key)}: [")
            for k, row in enumerate(rows):
                sep = "," if k < len(rows) - 1 else ""
                lines.append("        " + json.dumps(row, ensure_ascii=False) + sep)
            lines.append(f"      ]{end}")
        lines.append("    }" + ("," if i < len(names) - 1 else ""))
    lines.append("  },")
    lines.append('  "review": [')
    for k, row in enumerate(doc["review"]):
        sep = "," if k < len(doc["review"]) - 1 else ""
        lines.append("    " + json.dumps(row, ensure_ascii=False) + sep)
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def generate() -> str:
    conditions = tomllib.loads(CONDITIONS.read_text(encoding="utf-8"))
    concepts = tomllib.loads(CONCEPTS.read_text(encoding="utf-8"))
    return dumps(build(conditions, concepts))


def refresh_gps(package_dir: Path) -> None:
    src = package_dir / "ValueSet-snomed-intl-gps.json"
    if not src.exists():
        src = package_dir / "package" / "ValueSet-snomed-intl-gps.json"
    vs = json.loads(src.read_text(encoding="utf-8"))
    concepts = vs["compose"]["include"][0]["concept"]
    head = [line for line in GPS_FILE.read_text(encoding="utf-8").splitlines() if line[:1] == "#"]
    head = [h for h in head if not h.startswith("# sha256 of that file")]
    head.insert(3, f"# sha256 of that file: {sha256_file(src)}")
    rows = [
        f"{c['code']}\t{c['display']}" for c in concepts if fsn_parts(c["display"])[1] in GPS_TAGS
    ]
    GPS_FILE.write_text("\n".join(head + rows) + "\n", encoding="utf-8")


def refresh_r4x(package_dir: Path) -> None:
    src = package_dir / "Bundle-valueset-expansions.json"
    if not src.exists():
        src = package_dir / "package" / "Bundle-valueset-expansions.json"
    bundle = json.loads(src.read_text(encoding="utf-8"))
    gps = {code for code, _ in read_gps()}
    rows: dict[str, str] = {}
    for entry in bundle["entry"]:
        vs = entry["resource"]
        if vs.get("url") not in R4X_VALUESETS:
            continue
        for c in vs.get("expansion", {}).get("contains", []):
            if c.get("system") == "http://snomed.info/sct" and c["code"] not in gps:
                rows.setdefault(c["code"], c["display"])
    head = [
        "# SNOMED CT clinical findings of the FHIR R4 value-set expansions, outside the GPS",
        f"# from {R4X_INPUT['package']}",
        "# value sets: " + " ".join(R4X_VALUESETS),
        f"# sha256 of that file: {sha256_file(src)}",
        f"# licence: {R4X_INPUT['licence']}",
    ]
    body = [f"{code}\t{rows[code]}" for code in sorted(rows, key=int)]
    R4X_FILE.write_text("\n".join(head + body) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file differs")
    parser.add_argument("--review", action="store_true", help="print the look-alike review")
    parser.add_argument("--refresh-gps", type=Path, metavar="DIR", help="unpacked npm package")
    parser.add_argument("--refresh-r4x", type=Path, metavar="DIR", help="unpacked npm package")
    args = parser.parse_args(argv)
    if args.refresh_gps:
        refresh_gps(args.refresh_gps)
    if args.refresh_r4x:
        refresh_r4x(args.refresh_r4x)
    text = generate()
    if args.review:
        for row in json.loads(text)["review"]:
            print("\t".join(row))
        return 0
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is not what the definitions produce: rebuild it", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    doc = json.loads(text)
    for concept, table in doc["concepts"].items():
        if table["snomed"] or table["icd10cm"]:
            print(f"{concept}: {len(table['snomed'])} SNOMED CT, {len(table['icd10cm'])} ICD-10-CM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
