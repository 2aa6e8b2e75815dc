"""docs/rules/ is generated from the knowledge files: no drift, no id of SPEC.md missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.knowledge import load_knowledge
from cds_service.rule_docs import pages

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"

# Every rule and score id of clinical/SPEC.md §1, §3, §4, §5 (copied here so that a clone
# without ../shared still checks it).
SPEC_SCORES = [
    "DAS28-ESR",
    "DAS28-CRP",
    "DAS28-ESR-3",
    "DAS28-CRP-3",
    "CDAI",
    "SDAI",
    "EULAR-RESPONSE",
    "PMR-AS-CRP",
    "PMR-AS-ESR",
    "PMR-FLARE",
]
SPEC_RULES = [
    "JAKI-AGE-65",
    "JAKI-SMOKER",
    "JAKI-MACE-RISK",
    "JAKI-VTE-HISTORY",
    "JAKI-VTE-RISK",
    "JAKI-MALIGNANCY",
    "JAKI-SERIOUS-INFECTION",
    "JAKI-INFECTION-RISK",
    "JAKI-TB-ACTIVE",
    "JAKI-TB-SCREEN",
    "JAKI-HBV",
    "JAKI-HCV",
    "JAKI-ZOSTER",
    "JAKI-LIVE-VACCINE",
    "JAKI-PREGNANCY",
    "JAKI-CONTRACEPTION",
    "JAKI-GI-PERFORATION",
    "JAKI-LAB-ANC",
    "JAKI-LAB-ALC",
    "JAKI-LAB-HB",
    "JAKI-LAB-PLT",
    "JAKI-LAB-MISSING",
    "JAKI-LIPIDS",
    "JAKI-RENAL-DOSE",
    "JAKI-HEPATIC",
    "JAKI-DOSE-MAX",
    "JAKI-DDI",
    "JAKI-COMBINATION",
    "JAKI-TOPICAL",
    "JAKI-PARADOXICAL-ROSACEA",
    "JAKI-FILGOTINIB-FERTILITY",
    "RA-ACTIVITY",
    "RA-LOW-ACTIVITY",
    "RA-PAYER-DAS28",
    "PMR-ACTIVITY",
    "PMR-OFF-LABEL",
    "PMR-GCA-SIGNS",
    "MYO-MDA5-ILD-RISK",
    "MYO-CK-TREND",
    "MYO-PJP-PROPHYLAXIS",
    "ROSACEA-OFF-LABEL",
    "IFX-TDM-LOW",
    "IFX-ADA",
    "IFX-TDM-NONE",
    "IFX-INTERVAL",
    "IFX-MTX",
    "IFX-SCREEN",
]


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return pages(load_knowledge())


def test_committed_pages_equal_generated(generated: dict[str, str]) -> None:
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    stale = sorted(set(committed) - set(generated))
    missing = sorted(set(generated) - set(committed))
    changed = sorted(n for n in generated if n in committed and committed[n] != generated[n])
    assert not (stale or missing or changed), (
        f"docs/rules/ differs from the knowledge files (run `rheum-cds docs`): "
        f"stale {stale}, missing {missing}, changed {changed}"
    )


@pytest.mark.parametrize("item_id", SPEC_SCORES + SPEC_RULES)
def test_every_spec_id_has_a_page_with_a_source(generated: dict[str, str], item_id: str) -> None:
    page = generated.get(f"{item_id}.md")
    assert page is not None, f"{item_id} has no page (not in the knowledge files)"
    source = page.split("## Source", 1)[1].split("##", 1)[0].strip()
    assert source and source != "(none)", f"{item_id} names no source"


def test_index_lists_every_spec_id_as_implemented_or_switched_off(
    generated: dict[str, str],
) -> None:
    index = generated["README.md"]
    for item_id in SPEC_SCORES + SPEC_RULES:
        row = next((line for line in index.splitlines() if line.startswith(f"| [{item_id}]")), None)
        assert row is not None, f"{item_id} missing from the index"
        assert "implemented" in row or "off by default" in row, row


def test_card_source_links_resolve(tmp_path: Path) -> None:
    app = create_app(Config(storage_url=f"sqlite:///{tmp_path}/t.db", allow_unsigned=True))
    client = app.test_client()
    page = client.get("/docs/rules/JAKI-AGE-65")
    assert page.status_code == 200
    assert "European Medicines Agency (PRAC)" in page.get_data(as_text=True)
    assert client.get("/docs/rules/").status_code == 200
    assert client.get("/docs/rules/NO-SUCH-RULE").status_code == 404


def test_a_card_link_lists_the_pages_of_its_other_findings(tmp_path: Path) -> None:
    """A card has one link: its lead rule's page, which links every other finding's page."""
    app = create_app(Config(storage_url=f"sqlite:///{tmp_path}/t.db", allow_unsigned=True))
    client = app.test_client()
    page = client.get("/docs/rules/JAKI-DOSE-MAX?also=JAKI-AGE-65,DAS28-ESR,<script>,NO-SUCH")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Also on this card" in body
    assert "href='JAKI-AGE-65'" in body and "age 65 or over" in body
    assert "href='DAS28-ESR'" in body
    assert "<script>" not in body and "NO-SUCH" not in body
    plain = client.get("/docs/rules/JAKI-DOSE-MAX").get_data(as_text=True)
    assert "Also on this card" not in plain
