"""What a clinician reads names publications, never the team's shorthand or the service's gaps.

Every card of every demo patient x its orders x four languages x four label regions (and each
demo patient's patient-view cards), every template text (so texts other sessions add are
checked too) and every rule page: no "seed", no "SPEC", no "not configured", no internal key of
a knowledge file (`sct_synthea`, `spec6`, a citation id). Every source a card shows is a link to
its DOI or URL whose text names the issuer or authors, the title, the journal or document and
the year; a card names each source once. Every citation of sources.toml and every label of
labels.toml is complete.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cards.catalogue import all_catalogues
from cds_service.knowledge.citations import (
    MAX_CARD_SOURCES,
    card_text,
    citation,
    compact_citation,
    label_citation,
    link,
    markdown_link,
    short_title,
)

KNOWLEDGE = Path(__file__).resolve().parents[2] / "cds_service" / "knowledge"
WORDS = re.compile(r"\bseed\b|\bspec\b|spec\.md|not configured|\.toml\b", re.IGNORECASE)


def _internal_keys() -> set[str]:
    """Keys of the knowledge files' source tables that look like identifiers, and citation ids."""
    keys: set[str] = set()
    for path in KNOWLEDGE.rglob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        keys |= {k for k in data.get("_sources", {}) if re.search(r"[_0-9]", k)}
    keys |= set(tomllib.loads((KNOWLEDGE / "sources.toml").read_text(encoding="utf-8")))
    return keys


INTERNAL = _internal_keys()
KEY_PATTERN = re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, INTERNAL)) + r")(?![\w-])")


def _leaves(data: Any, where: str = "") -> list[tuple[str, str]]:
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in _leaves(v, f"{where}.{k}")]
    if isinstance(data, list):
        return [x for i, v in enumerate(data) for x in _leaves(v, f"{where}[{i}]")]
    return [(where, data)] if isinstance(data, str) else []


def _problems(text: str) -> list[str]:
    return [m.group() for m in WORDS.finditer(text)] + [
        m.group() for m in KEY_PATTERN.finditer(text)
    ]


def test_internal_keys_are_found() -> None:
    """The check itself: it knows the keys it must refuse, and finds them in a text."""
    assert {"sct_synthea", "spec6", "ytterberg-2022"} <= INTERNAL
    assert _problems("Source: sct_synthea; seed 000; SPEC.md §1; label not configured")
    assert not _problems(
        "Ytterberg SR et al. Cardiovascular and cancer risk with tofacitinib in rheumatoid "
        "arthritis. N Engl J Med 2022, https://doi.org/10.1056/NEJMoa2109927"
    )


def test_no_template_text_carries_internal_words() -> None:
    bad = [
        f"{lang} {where}: {_problems(text)}"
        for lang, cat in all_catalogues().items()
        for where, text in _leaves(cat.data)
        if _problems(text)
    ]
    assert not bad, "\n".join(bad)


def test_every_citation_is_complete() -> None:
    sources = tomllib.loads((KNOWLEDGE / "sources.toml").read_text(encoding="utf-8"))
    for sid, entry in sources.items():
        assert entry.get("authors") and entry.get("title"), sid
        assert entry.get("journal") or entry.get("document"), sid
        assert isinstance(entry.get("year"), int), sid
        assert entry.get("doi") or str(entry.get("url", "")).startswith("https://"), sid
        assert str(entry["year"]) in compact_citation(entry) and entry["title"] in citation(entry)
        assert not _problems(citation(entry)), sid


ANCHOR = date(2026, 11, 23)


def _patient_view_cards() -> list[tuple[str, dict[str, Any]]]:
    """Every demo patient's patient-view cards (no order) in the four languages."""
    from cards.examples import record_from_bundle
    from cards.render import render_cards
    from cds_service.assess.engine import assess
    from cds_service.assess.registry import Settings
    from cds_service.demo_data import demo_patients
    from cds_service.normalise import normalise
    from scripts.card_metrics import LANGUAGES, _knowledge

    knowledge = _knowledge()
    out = []
    for patient in demo_patients(ANCHOR):
        facts = normalise(record_from_bundle(patient.bundle), [], knowledge, ANCHOR)
        assessment = assess(facts, knowledge, Settings(hook="patient-view"))
        for language in LANGUAGES:
            for card in render_cards(
                assessment, language, knowledge, "https://cds.example.org/docs", "patient-view"
            ):
                out.append((language, card))
    return out


def _demo_cards() -> list[tuple[str, dict[str, Any]]]:
    """Every demo patient x each drug of its `try` list x four languages x four label regions,
    and every demo patient's patient-view cards."""
    from scripts.card_metrics import render_all

    orders = [item for region in ("EU", "US", "JP", "TW") for item in render_all(ANCHOR, region)]
    return orders + _patient_view_cards()


@pytest.fixture(scope="module")
def demo_cards() -> list[tuple[str, dict[str, Any]]]:
    return _demo_cards()


def test_no_card_carries_internal_words_or_the_service_gaps(demo_cards) -> None:
    assert len({lang for lang, _ in demo_cards}) == 4 and len(demo_cards) > 100
    bad = []
    for lang, card in demo_cards:
        text = json.dumps(card, ensure_ascii=False)
        if _problems(text):
            bad.append(f"{lang} {card['summary']}: {sorted(set(_problems(text)))}")
    assert not bad, "\n".join(bad[:20])


def test_every_source_in_a_card_extension_can_be_looked_up(demo_cards) -> None:
    for _, card in demo_cards:
        for finding in card["extension"]["org.rheum-cds"]["findings"]:
            for part in filter(None, finding["source"].split("; ")):
                assert re.search(r", https?://\S+$", part), (finding["id"], part)


YEAR = re.compile(r"\b(19|20)\d{2}\b")
LINK = re.compile(r"^\[(?P<text>[^\[\]]+)\]\((?P<url>https?://[^\s()<>]+)\)$")


def _known_references(knowledge) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str, dict]]]:
    """The links a card may show: sources.toml entries by language and markdown link, and the
    labels of labels.toml as (document, url, table)."""
    sources = {
        language: {
            markdown_link(card_text(e, language), link(e)): e
            for e in knowledge.files["sources"].values()
        }
        for language in all_catalogues()
    }
    labels = []
    for regions in knowledge.files["labels"].values():
        for region in ("EU", "US", "JP", "TW"):
            table = regions.get(region)
            if isinstance(table, dict) and table.get("source"):
                labels.append((table["document"], table["url"], table))
    return sources, labels


def _sources_items(language: str, card: dict[str, Any]) -> list[str] | None:
    """The items of a card's sources line ("Source: a; b; +2 more"), None without one."""
    cat = all_catalogues()[language]
    prefix = f"*{cat.get('card', 'source')}{cat.get('meta', 'colon')}"
    lines = [line for line in card.get("detail", "").split("\n") if line.startswith(prefix)]
    assert len(lines) <= 1, lines
    return lines[0].removeprefix(prefix).removesuffix("*").split("; ") if lines else None


def test_every_source_on_a_card_names_the_publication(demo_cards, knowledge) -> None:
    """Each source a card shows is a link to its DOI or URL whose text names the authors or
    issuer, the title, the journal or document and the year (a sources.toml publication or a
    labels.toml label), each once; more than four are counted, never shown bare."""
    sources, labels = _known_references(knowledge)
    more = {
        lang: re.compile(
            "^" + re.escape(cat.get("meta", "and_more")).replace(r"\{count\}", r"\d+") + "$"
        )
        for lang, cat in all_catalogues().items()
    }
    cited = 0
    shown_labels = set()
    for language, card in demo_cards:
        items = _sources_items(language, card)
        if items is None:
            assert not card["extension"]["org.rheum-cds"]["findings"], card["summary"]
            continue
        if more[language].match(items[-1]):
            items = items[:-1]
            assert len(items) == MAX_CARD_SOURCES, (card["summary"], items)
        assert 0 < len(items) <= MAX_CARD_SOURCES and len(set(items)) == len(items), items
        for item in items:
            m = LINK.match(item)
            assert m, f"{language} {card['summary']}: not a link: {item}"
            assert YEAR.search(m["text"]), item
            cited += 1
            if item in sources[language]:
                entry = sources[language][item]
                title = short_title(entry["title"], translated=language == "en")
                assert title.strip("[]").removesuffix("…") in m["text"], item
                assert str(entry["year"]) in m["text"], item
                continue
            label = [t for doc, url, t in labels if doc in m["text"] and url == m["url"]]
            assert label, f"{language} {card['summary']}: unknown source: {item}"
            holder = label[0]["issuer"].split(";")[0 if label[0]["label"] != "SmPC" else -1]
            assert m["text"].startswith(holder.strip().rstrip(".")), item
            assert m["text"].endswith(f" {label[0]['year']}"), item
            shown_labels.add(m["url"])
    assert cited > 500 and shown_labels, (cited, shown_labels)


def test_card_reference_forms() -> None:
    """The short forms: lead author et al., title (a long one cut at a word), journal year."""
    ytterberg = {
        "authors": "Ytterberg SR, Bhatt DL, Mikuls TR, et al.",
        "title": "Cardiovascular and cancer risk with tofacitinib in rheumatoid arthritis",
        "journal": "N Engl J Med 386:316–326",
        "year": 2022,
        "doi": "10.1056/NEJMoa2109927",
    }
    assert card_text(ytterberg) == (
        "Ytterberg SR et al. Cardiovascular and cancer risk with tofacitinib… N Engl J Med 2022"
    )
    short = {**ytterberg, "title": "Cardiovascular and cancer risk with tofacitinib in RA"}
    assert card_text(short) == (
        "Ytterberg SR et al. Cardiovascular and cancer risk with tofacitinib in RA. "
        "N Engl J Med 2022"
    )
    assert compact_citation(ytterberg).endswith(", https://doi.org/10.1056/NEJMoa2109927")
    two = {**ytterberg, "authors": "Leeb BF, Bird HA", "journal": "Ann Rheum Dis 63:1279–1283"}
    assert card_text(two).startswith("Leeb BF, Bird HA. Cardiovascular")
    cjk = {**ytterberg, "authors": "吕心妍, 闵玮, 王五 (Lyu XY, Min W, Wang W)"}
    assert card_text(cjk).startswith("吕心妍 (Lyu XY) et al. ")
    long = "Effect of therapeutic drug monitoring vs standard therapy during maintenance " * 2
    cut = short_title(long)
    assert cut.endswith("…") and long.startswith(cut[:-1]) and len(cut) <= 60
    assert short_title("A main title that is long enough to recognise: a subtitle " + "x" * 60) == (
        "A main title that is long enough to recognise"
    )
    assert short_title(
        "自身免疫性肌炎治疗进展 [Advances in the treatment of autoimmune myositis]"
    ) == ("自身免疫性肌炎治疗进展")
    cheng = {
        "authors": "鄭傑夫 (Cheng CF)",
        "title": "Janus激酶抑制劑在類風濕性關節炎的治療角色 [The role of Janus kinase inhibitors "
        "in rheumatoid arthritis]",
        "journal": "J Intern Med Taiwan 33:128–140",
        "year": 2022,
        "url": "https://www.tsim.org.tw/",
    }
    assert card_text(cheng, "en") == (
        "鄭傑夫 (Cheng CF). [The role of Janus kinase inhibitors in rheumatoid arthritis]. "
        "J Intern Med Taiwan 2022"
    )
    assert card_text(cheng, "zh-TW") == (
        "鄭傑夫 (Cheng CF). Janus激酶抑制劑在類風濕性關節炎的治療角色. J Intern Med Taiwan 2022"
    )
    document = {
        "authors": "US Food and Drug Administration",
        "short": "FDA",
        "title": "FDA requires warnings",
        "document": "Drug Safety Communication 2021-09-01",
        "year": 2021,
        "url": "https://www.fda.gov/x",
    }
    assert card_text(document) == "FDA. FDA requires warnings. Drug Safety Communication 2021-09-01"
    assert markdown_link("a [b]", "https://doi.org/10.1016/S2665-9913(24)00270-4") == (
        "[a (b)](https://doi.org/10.1016/S2665-9913%2824%2900270-4)"
    )


def test_every_label_can_be_cited(knowledge) -> None:
    """Each label a card can cite names issuer, document, year (of the text read) and URL; the
    rule pages add the version."""
    count = 0
    for regions in knowledge.files["labels"].values():
        for region in ("EU", "US", "JP", "TW"):
            table = regions.get(region)
            if isinstance(table, dict) and table.get("source"):
                count += 1
                assert isinstance(table["year"], int) and 2000 <= table["year"] <= 2030
                # the year is that of the revision read, or of the reading: the version says it
                assert str(table["year"]) in table["version"], (table["document"], table["year"])
                text = label_citation(table)
                assert table["document"] in text and str(table["year"]) in text
                assert table["version"] in text and not _problems(text)
    assert count >= 20


def test_no_warning_card_consists_only_of_the_service_limits(demo_cards, knowledge) -> None:
    """A warning or critical card has a finding or patient data to complete, never only what
    the service could not check (data not retrieved, unreadable, a rule off for the region)."""
    from scripts.card_metrics import service_limits_only

    loud = [card for _, card in demo_cards if card["indicator"] != "info"]
    assert loud
    assert not [c["summary"] for c in loud if service_limits_only(c, knowledge)]


def test_rule_pages_name_publications(knowledge) -> None:
    """Rule pages, the label figures and their reading notes included: no internal words."""
    from cds_service.rule_docs import pages

    bad = []
    for name, page in pages(knowledge).items():
        text = page
        if name == "README.md":
            text = "\n".join(line for line in text.splitlines() if not line.startswith("Generated"))
        # "not configured" is allowed here: an off rule is listed on its page, never on a card
        found = [p for p in _problems(text) if p.lower() != "not configured"]
        if found:
            bad.append(f"{name}: {sorted(set(found))}")
    assert not bad, "\n".join(bad)


def test_a_label_is_cited_once_with_the_sections_of_the_figures_used(knowledge) -> None:
    """Dose, renal and hepatic figures of one label: one reference naming the sections read
    (4.2, 4.3), the holder, the regulator and the year, linked to the label; an interaction
    names the section of its own entry; another drug's own label never shows."""
    from cds_service.knowledge.citations import card_sources, label_key
    from cds_service.model import Finding

    labels = knowledge.files["labels"]
    eu = label_key(labels["tofacitinib"]["EU"], "EU")
    findings = [
        Finding(rule, "warning", "safety", "o1", "tofacitinib", source=eu)
        for rule in ("JAKI-DOSE-MAX", "JAKI-RENAL-DOSE", "JAKI-HEPATIC")
    ]
    sotyktu = compact_citation(knowledge.files["sources"]["sotyktu-uspi"])
    findings.append(Finding("JAKI-TOPICAL", "info", "safety", "o1", "tofacitinib", source=sotyktu))
    [(text, url)] = card_sources(knowledge.files, findings)
    assert text == (
        "Pfizer Europe MA EEIG. XELJANZ (tofacitinib) film-coated tablets, prolonged-release "
        "tablets: Summary of Product Characteristics, §4.2, 4.3. EMA 2023"
    )
    assert url == labels["tofacitinib"]["EU"]["url"]
    us = label_key(labels["tofacitinib"]["US"], "US")
    ddi = Finding(
        "JAKI-DDI",
        "warning",
        "safety",
        "o1",
        "tofacitinib",
        source=us,
        params={"classes": ["cyp3a4_strong_inducer"]},
    )
    [(text, _)] = card_sources(knowledge.files, [ddi])
    assert text.startswith("Pfizer Labs. XELJANZ") and text.endswith(", §7. FDA 2026"), text


def test_rule_pages_cite_every_source_with_title_year_and_link(knowledge) -> None:
    """Each source listed on a rule or score page names its title and year with a DOI or URL;
    each label a rule judges with is cited (issuer, document, year, version) with its URL on
    that rule's page, interactions included."""
    from cds_service.knowledge.citations import DDI_RULE, LABEL_SECTIONS
    from cds_service.rule_docs import pages

    generated = pages(knowledge)
    titles = [e["title"] for e in knowledge.files["sources"].values()]
    listed = 0
    for name, page in generated.items():
        if "\n## Source\n" not in page:
            continue
        block = page.split("\n## Source\n", 1)[1].split("\n## ", 1)[0]
        for line in (x for x in block.splitlines() if x.startswith("- ")):
            listed += 1
            assert YEAR.search(line) and re.search(r"https?://\S", line), (name, line)
            assert any(title in line for title in titles), (name, line)
    assert listed > 60
    for drug, regions in knowledge.files["labels"].items():
        for region in ("EU", "US", "JP", "TW"):
            table = regions.get(region)
            if not (isinstance(table, dict) and table.get("source")):
                continue
            cited = f"[{label_citation(table)}]({table['url']})"
            rules = [r for r, section in LABEL_SECTIONS.items() if section in table]
            if any(isinstance(e.get(region), dict) for e in regions.get("ddi", [])):
                rules.append(DDI_RULE)
            for rule in rules:
                assert cited in generated[f"{rule}.md"], (drug, region, rule)
