"""docs/labels.md lists every label figure of knowledge/labels.toml with its status."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELS = tomllib.loads((ROOT / "cds_service/knowledge/labels.toml").read_text(encoding="utf-8"))
DOC = (ROOT / "docs/labels.md").read_text(encoding="utf-8")


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
