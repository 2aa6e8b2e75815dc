"""Recall and false positives of condition recognition on a list of labelled codes.

    python -m scripts.evaluate_conditions tests/engine/data/icd10_adversarial.tsv [--show-misses]
    python -m scripts.evaluate_conditions --code-list HELDOUT.tsv [--with-displays]

Each row of the list (tab-separated; `#` lines are comments) is `system  code  expected  why`
and optionally a fifth column, a display. `system` is a code-system URI or one of the short
names below; `expected` is a comma-separated list of condition concepts (their implied broader
concepts are added), `none` (the service must know the code is none of its concepts) or `open`
(the code alone does not say: neither a concept nor "none"). Every row is run through the
service's own normalise stage as an active Condition carrying that one coding and no display,
so that only the code decides; rows with a display are run a second time with the display only
(no code), so that the name fallback decides. The report gives, per code system and per
concept, how many codes were read right, the recall of each concept and its false positives.

With `--code-list`, each list is a held-out code list of the condition expansions' format
(`code  system  expected  display`, see knowledge/expansion/conditions.py read_code_list):
each code is read through the value sets (`ValueSets.condition_concept`, no display), and with
`--with-displays` a code the service does not know is read by its display as normalise reads
it; the report gives recall per expected concept and every false positive.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from cds_service.knowledge import Knowledge, load_knowledge
from cds_service.knowledge.expansion import conditions as expansion
from cds_service.model import PatientRecord
from cds_service.normalise import normalise
from cds_service.normalise.conditions import display_concept

SYSTEMS = {
    "cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "who": "http://hl7.org/fhir/sid/icd-10",
    "tw": "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/icd-10-cm-2023-tw",
    "jp": "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full",
    "cn": "urn:oid:2.16.156.10011.2.3.3.11",
    "sct": "http://snomed.info/sct",
}
TODAY = date(2026, 12, 5)


def read_rows(path: Path) -> list[dict[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 3:
            raise SystemExit(f"{path}: expected system, code, expected: {line!r}")
        system, code, expected = cells[:3]
        why = cells[3] if len(cells) > 3 else ""
        display = cells[4] if len(cells) > 4 else ""
        rows.append(
            {"system": system, "code": code, "expected": expected, "why": why, "display": display}
        )
    return rows


def condition(system: str | None, code: str | None, display: str | None) -> dict[str, Any]:
    cc: dict[str, Any] = {}
    if code is not None:
        cc["coding"] = [{"system": SYSTEMS.get(system or "", system), "code": code}]
    if display:
        cc["text"] = display
    return {
        "resourceType": "Condition",
        "id": "c1",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": cc,
    }


def read_as(knowledge: Knowledge, resource: dict[str, Any]) -> frozenset[str] | str:
    """What the service makes of one Condition: its concepts, "none" or "open"."""
    facts = normalise(PatientRecord(patient_id="p", conditions=[resource]), [], knowledge, TODAY)
    if facts.problems:
        return frozenset().union(*(p.concepts for p in facts.problems))
    return "open" if facts.unclassified_conditions else "none"


def expected_of(knowledge: Knowledge, expected: str) -> frozenset[str] | str:
    if expected in ("none", "open"):
        return expected
    vs = knowledge.vs
    out: set[str] = set()
    for concept in expected.split(","):
        out |= vs.concepts_with_implied(concept.strip())
    return frozenset(out)


def evaluate(knowledge: Knowledge, rows: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
    results = []
    for row in rows:
        want = expected_of(knowledge, row["expected"])
        runs = [("code", condition(row["system"], row["code"], None))]
        if row["display"]:
            runs.append(("display", condition(None, None, row["display"])))
        for by, resource in runs:
            results.append({**row, "by": by, "want": want, "got": read_as(knowledge, resource)})
    return results


def with_cm_displays(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows of ICD-10-CM codes without a display get the code's title from the FY2026 tabular
    list (the test extra simple-icd-10-cm), so that the display-only run reads real titles."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

        out = []
        for row in rows:
            if row["system"] == "cm" and not row["display"] and cm.is_valid_item(row["code"]):
                row = {**row, "display": cm.get_description(row["code"])}
            out.append(row)
    return out


def _label(value: frozenset[str] | str) -> str:
    return value if isinstance(value, str) else ",".join(sorted(value)) or "-"


def report(results: list[dict[str, Any]], show_misses: bool = False) -> str:
    lines: list[str] = []
    by_system: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    by_concept: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        want, got = r["want"], r["got"]
        key = (r["by"], r["system"])
        by_system[key]["rows"] += 1
        by_system[key]["right"] += want == got
        wanted = want if isinstance(want, frozenset) else frozenset()
        found = got if isinstance(got, frozenset) else frozenset()
        for concept in wanted:
            by_concept[concept]["positives"] += 1
            by_concept[concept]["found"] += concept in found
        for concept in found - wanted:
            by_concept[concept]["false_positives"] += 1
            by_system[key]["false_positives"] += 1
        if isinstance(want, str):
            by_concept[f"({want})"]["positives"] += 1
            by_concept[f"({want})"]["found"] += want == got
        by_system[key]["positives"] += len(wanted)
        by_system[key]["found"] += len(wanted & found)
    lines.append("by\tsystem\trows\tright\trecall\tfalse_positives")
    for (by, system), c in sorted(by_system.items()):
        recall = c["found"] / c["positives"] if c["positives"] else 1.0
        lines.append(
            f"{by}\t{system}\t{c['rows']}\t{c['right']}\t{recall:.1%}\t{c['false_positives']}"
        )
    lines.append("")
    lines.append("concept\tpositives\tfound\trecall\tfalse_positives")
    for concept, c in sorted(by_concept.items()):
        recall = c["found"] / c["positives"] if c["positives"] else 1.0
        lines.append(
            f"{concept}\t{c['positives']}\t{c['found']}\t{recall:.1%}\t{c['false_positives']}"
        )
    if show_misses:
        lines.append("")
        lines.append("misses and false positives (by, system, code, expected, read as, why)")
        for r in results:
            if r["want"] != r["got"]:
                lines.append(
                    f"{r['by']}\t{r['system']}\t{r['code']}\t{_label(r['want'])}"
                    f"\t{_label(r['got'])}\t{r['why']}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tsv", type=Path, nargs="+", help="labelled code lists")
    parser.add_argument("--show-misses", action="store_true", help="list every wrong reading")
    parser.add_argument(
        "--cm-displays",
        action="store_true",
        help="give ICD-10-CM rows without a display their tabular-list title (simple-icd-10-cm)",
    )
    parser.add_argument(
        "--code-list",
        action="store_true",
        help="the lists are held-out code lists (code, system, expected, display)",
    )
    parser.add_argument(
        "--with-displays",
        action="store_true",
        help="--code-list: read a code the service does not know by its display",
    )
    args = parser.parse_args(argv)
    knowledge = load_knowledge()
    if args.code_list:
        for path in args.tsv:
            result = expansion.evaluate(
                expansion.read_code_list(path),
                knowledge.vs,
                read_display=display_concept if args.with_displays else None,
            )
            print("\n".join(result.report()))
        return 0
    rows = [row for path in args.tsv for row in read_rows(path)]
    if args.cm_displays:
        rows = with_cm_displays(rows)
    results = evaluate(knowledge, rows)
    print(report(results, args.show_misses))
    return 0 if all(r["want"] == r["got"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
