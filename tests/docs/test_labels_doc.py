"""docs/labels.md lists every label figure of knowledge/labels.toml with its status.

The matrix of docs/labels.md covers every target drug (the nine JAK inhibitors with ruxolitinib
oral and cream apart, deucravacitinib, infliximab) x region (EU, US, JP, TW) x figure kind
(dose, age, renal, hepatic, labs, interactions). Each cell's status is derived here from the
data and the rules' scope, so the document cannot claim more (or less) than the service does.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from cds_service.knowledge import load_knowledge

ROOT = Path(__file__).resolve().parents[2]
LABELS = tomllib.loads((ROOT / "cds_service/knowledge/labels.toml").read_text(encoding="utf-8"))
DOC = (ROOT / "docs/labels.md").read_text(encoding="utf-8")
MEDICATIONS = tomllib.loads(
    (ROOT / "cds_service/knowledge/valuesets/medications.toml").read_text(encoding="utf-8")
)
KNOWLEDGE = load_knowledge()

REGIONS = ("EU", "US", "JP", "TW")
KINDS = ("dose", "age", "renal", "hepatic", "labs", "interactions")
# matrix row -> (drug id of labels.toml / medications.toml, topical form)
TARGETS = {
    "tofacitinib": ("tofacitinib", False),
    "baricitinib": ("baricitinib", False),
    "upadacitinib": ("upadacitinib", False),
    "filgotinib": ("filgotinib", False),
    "peficitinib": ("peficitinib", False),
    "abrocitinib": ("abrocitinib", False),
    "ruxolitinib (oral)": ("ruxolitinib", False),
    "ruxolitinib (1.5% cream)": ("ruxolitinib", True),
    "ritlecitinib": ("ritlecitinib", False),
    "delgocitinib": ("delgocitinib", True),
    "deucravacitinib": ("deucravacitinib", False),
    "infliximab": ("infliximab", False),
}
RULES = {
    "dose": "JAKI-DOSE-MAX",
    "age": "JAKI-DOSE-MAX",
    "renal": "JAKI-RENAL-DOSE",
    "hepatic": "JAKI-HEPATIC",
    "labs": "JAKI-LAB-ANC",
    "interactions": "JAKI-DDI",
}
STATUSES = ("on", "partly off", "off", "label silent", "not authorised", "not applicable")


def expected_status(row: str, region: str, kind: str) -> str:
    """What the service does with this cell, from labels.toml and the rules' scope."""
    drug, topical = TARGETS[row]
    classes = set(MEDICATIONS[drug]["classes"]) | {drug}
    rule = KNOWLEDGE.rules[RULES[kind]]
    topical_policy = KNOWLEDGE.rules["JAKI-TOPICAL"]
    topical = topical or drug in topical_policy["topical_drugs"]
    if not classes & set(rule["applies_to"]):
        return "not applicable"
    if topical and RULES[kind] in topical_policy["not_applicable"]:
        return "not applicable"
    table = LABELS.get(drug, {}).get(region)
    if isinstance(table, dict) and table.get("authorised") is False:
        return "not authorised"
    if kind == "interactions":
        entries = [e.get(region) for e in LABELS.get(drug, {}).get("ddi", [])]
        entries = [e for e in entries if isinstance(e, dict)]
        if not entries or not any(e.get("checked") for e in entries):
            return "off"
        return "on" if all(e.get("checked") for e in entries) else "partly off"
    section = "dose" if kind == "age" else kind
    part = table.get(section) if isinstance(table, dict) else None
    if not isinstance(part, dict) or not part.get("checked"):
        return "off"
    if part.get("silent"):
        return "label silent"
    if kind == "age":
        aged = [x for x in part["limits"] if "min_age" in x or "below_age" in x]
        return "on" if aged else "label silent"
    if kind == "renal" and any(b.get("checked") is False for b in part.get("bands", [])):
        return "partly off"
    if kind == "labs" and part.get("unconfirmed"):
        return "partly off"
    return "on"


def matrix() -> dict[tuple[str, str], list[str]]:
    """The rows of the matrix table in docs/labels.md: (drug, region) -> cells."""
    body = DOC.split("## Matrix", 1)[1].split("\n## ", 1)[0]
    rows: dict[tuple[str, str], list[str]] = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 + len(KINDS) and cells[0] in TARGETS:
            rows[(cells[0], cells[1])] = cells[2:]
    return rows


def status_of(cell: str) -> str:
    """The status word a matrix cell opens with (longest first: 'partly off' before 'off')."""
    plain = cell.replace("*", "")
    for status in sorted(STATUSES, key=len, reverse=True):
        if plain.startswith(status):
            return status
    raise AssertionError(f"matrix cell without a status: {cell!r}")


@pytest.mark.parametrize("row", list(TARGETS))
def test_matrix_cell_states_what_the_service_does(row: str) -> None:
    rows = matrix()
    wrong = []
    for region in REGIONS:
        cells = rows.get((row, region))
        assert cells is not None, f"docs/labels.md matrix has no row {row} / {region}"
        for kind, cell in zip(KINDS, cells, strict=True):
            want = expected_status(row, region, kind)
            if status_of(cell) != want:
                wrong.append(f"{row}/{region}/{kind}: doc '{cell}', data '{want}'")
    assert not wrong, "; ".join(wrong)


def unconfirmable() -> list[list[str]]:
    body = DOC.split("## Not confirmable here", 1)[1].split("\n## ", 1)[0]
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in body.splitlines()
        if line.startswith("| ") and not line.startswith("| drug")
    ]


def test_every_cell_that_is_off_says_what_was_tried() -> None:
    """An off (or partly off) cell is listed with what was tried."""
    listed = unconfirmable()
    missing = []
    for row in TARGETS:
        for region in REGIONS:
            for kind in KINDS:
                if expected_status(row, region, kind) not in ("off", "partly off"):
                    continue
                hit = [
                    r
                    for r in listed
                    if r[0] == row
                    and region in re.split(r"[ ,]+", r[1])
                    and kind in re.split(r"[ ,;]+", r[2])
                    and len(r) > 3
                    and r[3]
                ]
                if not hit:
                    missing.append(f"{row}/{region}/{kind}")
    assert not missing, "not listed under 'Not confirmable here': " + ", ".join(missing)


def test_a_drug_not_authorised_in_a_region_carries_no_figures() -> None:
    for drug, regions in LABELS.items():
        for region, table in regions.items():
            if isinstance(table, dict) and table.get("authorised") is False:
                assert not set(table) & {"dose", "renal", "hepatic", "labs"}, (drug, region)
                assert table.get("note"), (drug, region)
                for entry in regions.get("ddi", []):
                    assert region not in entry, (drug, region)


def test_every_label_section_is_listed_with_its_status() -> None:
    missing = []
    for drug, regions in LABELS.items():
        for region, table in regions.items():
            if region == "ddi":
                continue
            for section in ("dose", "renal", "hepatic", "labs"):
                part = table.get(section)
                if not isinstance(part, dict):
                    continue
                status = "on" if part.get("checked") else "**off**"
                row = f"| {drug} | {region} | {section} | {status} |"
                if row not in DOC:
                    missing.append(row)
    assert not missing, "docs/labels.md does not list: " + "; ".join(missing)


def test_every_figure_that_is_on_names_where_it_was_read() -> None:
    for drug, regions in LABELS.items():
        for region, table in regions.items():
            if region == "ddi":
                continue
            for section in ("dose", "renal", "hepatic", "labs"):
                part = table.get(section)
                if isinstance(part, dict) and part.get("checked"):
                    assert part.get("read") and part["read"].split(";")[0].strip() in DOC, (
                        drug,
                        region,
                        section,
                    )


def test_every_interaction_entry_that_is_on_names_where_it_was_read() -> None:
    for drug, regions in LABELS.items():
        for entry in regions.get("ddi", []):
            for region in REGIONS:
                part = entry.get(region)
                if isinstance(part, dict) and part.get("checked"):
                    assert part.get("read") and part["read"].split(";")[0].strip() in DOC, (
                        drug,
                        region,
                        entry["classes"],
                    )
