"""Citations as a clinician reads them: in full on the rule pages, compactly on the cards.

Two kinds of source are cited. A publication of sources.toml (an article, a guideline, a
regulator's page) names its authors or issuer, title, journal or document, year and DOI or URL.
A label of labels.toml (the document read for one drug and region) names its holder, document
(its title), the sections of the figures used, the regulator, the year of the text read and the
official URL.

On a card every source is one markdown link to its DOI or URL, whose text is a short
Vancouver-style reference: "Ytterberg SR et al. Cardiovascular and cancer risk with
tofacitinib… N Engl J Med 2022" (a long title cut at a word with "…"). The rule pages carry the
full citation and, for labels, the version read and where each figure was read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cds_service.model import Finding

# Which section of a region's label (labels.toml) each label rule judges with; JAKI-DDI reads
# the section of the interaction entry (labels.toml [[<drug>.ddi]]) the finding names.
LABEL_SECTIONS = {
    "JAKI-RENAL-DOSE": "renal",
    "JAKI-HEPATIC": "hepatic",
    "JAKI-DOSE-MAX": "dose",
    "JAKI-LAB-ANC": "labs",
    "JAKI-LAB-ALC": "labs",
    "JAKI-LAB-HB": "labs",
    "JAKI-LAB-PLT": "labs",
}
DDI_RULE = "JAKI-DDI"
REGIONS = ("EU", "US", "JP", "TW")

# "N Engl J Med 386:316–326", "中风与神经疾病杂志 42(5):387–394": journal, volume(issue), pages
_ARTICLE = re.compile(r"^(?P<name>.+?)\s+(?P<volume>\d+(?:\(\d+\))?):(?P<pages>\S+)$")
_REGISTRY_SUFFIX = re.compile(r"\s*\((?:PMID|PMC)[^)]*\)$")  # the link already names it
_SECTION_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)*)")
TITLE_WIDTH = 60  # columns of a title on a card (the rule pages show it whole)
# "原題 [English translation]": a title in another language and its translation
_TRANSLATED = re.compile(r"^(?P<original>.+?) \[(?P<english>[^\[\]]+)\]$")
# words a cut title does not end on
_TRAILING = frozenset("a an and at by for from in of on or the to vs with".split())
MAX_CARD_SOURCES = 4  # references on a card; the rest are counted ("+2 more")


def link(entry: Mapping[str, Any]) -> str:
    """The DOI (as an https://doi.org address) or else the URL of a source."""
    if entry.get("doi"):
        return f"https://doi.org/{entry['doi']}"
    return str(entry.get("url", ""))


@lru_cache(maxsize=2048)  # the knowledge's sources: a card names a few of them each time
def markdown_link(text: str, url: str) -> str:
    """A reference as a markdown link on its text (brackets in the text become parentheses,
    characters that end a link target are escaped); the text alone when there is no address."""
    if not url.startswith(("https://", "http://")) or " " in url:
        return text
    for char, code in (("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    return f"[{text.replace('[', '(').replace(']', ')')}]({url})"


def citation(entry: Mapping[str, Any]) -> str:
    """The full citation (rule pages): authors. title. journal or document, year. doi / url."""
    venue = entry.get("journal") or entry.get("document") or ""
    parts = [str(entry.get("authors", "")).rstrip("."), str(entry.get("title", "")).rstrip(".")]
    parts.append(f"{venue}, {entry.get('year', '')}".strip(", "))
    text = ". ".join(p for p in parts if p) + "."
    if entry.get("doi"):
        text += f" https://doi.org/{entry['doi']}"
    if entry.get("url"):
        text += f" {entry['url']}"
    return text


def _short_authors(authors: str) -> str:
    """ "Ytterberg SR, Bhatt DL, Mikuls TR, et al." -> "Ytterberg SR et al."; one or two authors
    stay as they are ("Leeb BF, Bird HA", "吕心妍, 闵玮 (Lyu XY, Min W)")."""
    names, _, roman = authors.strip().rstrip(".").partition(" (")
    parts = [p.strip() for p in names.split(",") if p.strip()]
    more = any(p == "et al" for p in parts)
    parts = [p for p in parts if p != "et al"]
    if len(parts) <= 2 and not more:
        return authors.strip().rstrip(".")
    lead = parts[0]
    if roman:
        lead += f" ({roman.rstrip(')').split(',')[0].strip()})"
    return f"{lead} et al."


def _venue(entry: Mapping[str, Any]) -> str:
    """The journal and year ("N Engl J Med 2022": volume and pages are on the rule page, the
    DOI finds the article), or the document and year."""
    year = str(entry.get("year", ""))
    if entry.get("journal"):
        journal = _REGISTRY_SUFFIX.sub("", str(entry["journal"]))
        m = _ARTICLE.match(journal)
        if m:
            return f"{m['name']} {year}"
        return journal if year in journal else f"{journal} {year}"
    document = str(entry.get("document", ""))
    return document if year in document else f"{document}, {year}"


def _width(text: str) -> int:
    if text.isascii():  # no ASCII character is wide (east_asian_width "Na" or "N")
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def short_title(title: str, width: int = TITLE_WIDTH, translated: bool = False) -> str:
    """The title as a card shows it: whole when it is short; else without its bracketed
    English translation, then without its subtitle (after ": ") when the main title is long
    enough to recognise, then cut at a word boundary with "…" (a wide character counts two).
    `translated` (an English card): a title in another language with a bracketed English
    translation shows the translation alone, in its brackets, as English references do."""
    title = title.strip().rstrip(".")
    m = _TRANSLATED.match(title)
    if translated and m:
        inner = short_title(m["english"], width)
        return f"[{inner}]"
    if _width(title) <= width:
        return title
    title = title.split(" [", 1)[0]
    main = title.split(": ", 1)[0]
    if _width(main) >= width // 2:
        title = main
    if _width(title) <= width:
        return title
    cut = ""
    for word in re.findall(r"\S+\s*", title):
        if _width(cut + word) > width - 1:
            break
        cut += word
    if not cut.strip():  # one long word or an unspaced script: cut by characters
        for ch in title:
            if _width(cut + ch) > width - 1:
                break
            cut += ch
    words = cut.rstrip(" ,;:–-([").split(" ")
    while len(words) > 1 and words[-1].lower() in _TRAILING:
        words.pop()
    return " ".join(words).rstrip(" ,;:–-([") + "…"


def card_text(entry: Mapping[str, Any], language: str = "") -> str:
    """The card's reference text of a sources.toml entry (the link is separate): lead author
    et al. (or the issuer's short name), title (on an English card, the English translation of
    a title in another language), journal and year, or document and year."""
    if entry.get("journal"):
        who = _short_authors(str(entry.get("authors", "")))
    else:
        who = str(entry.get("short") or entry.get("authors", "")).rstrip(".")
    who = who if who.endswith(".") else f"{who}."
    title = short_title(str(entry.get("title", "")), translated=language == "en")
    return f"{who} {title}{'' if title.endswith('…') else '.'} {_venue(entry)}"


def compact_citation(entry: Mapping[str, Any]) -> str:
    """A source as a finding carries it (`Finding.source`): the card's reference text, then
    ", " and the DOI or URL; sources of one finding are joined with "; "."""
    return f"{card_text(entry)}, {link(entry)}"


# --------------------------------------------------------------------------- labels


def label_key(table: Mapping[str, Any], region: str) -> str:
    """The text a label rule gives its finding as source (assess/rules/jaki_common.py
    label_source calls this): short name, [region], URL. The card replaces it with the label
    citation."""
    name = f"{table.get('source', '')} [{region}]".strip()
    return f"{name}, {table['url']}" if table.get("url") else name


def _issuer(table: Mapping[str, Any]) -> str:
    return str(table.get("issuer", "")).replace("; ", ", ").rstrip(".")


def label_citation(table: Mapping[str, Any]) -> str:
    """The label as the rule pages cite it: issuer. document. year (version read)."""
    text = f"{_issuer(table)}. {table.get('document', '')}. {table.get('year', '')}"
    version = table.get("version")
    return f"{text} ({version})" if version else text


# The regulator of each kind of label (labels.toml `label`): how its name reads in `issuer`, and
# the abbreviation a card uses after the document.
AGENCIES = {
    "SmPC": ("European Medicines Agency", "EMA"),
    "USPI": ("Food and Drug Administration", "FDA"),
    "PMDA": ("PMDA", "PMDA"),
    "TFDA": ("TFDA", "TFDA"),
}


def _holder_and_agency(table: Mapping[str, Any]) -> tuple[str, str]:
    """The marketing-authorisation holder(s) and the regulator's abbreviation, read from
    `issuer` ("European Medicines Agency; Pfizer Europe MA EEIG" -> "Pfizer Europe MA EEIG",
    "EMA"); the whole issuer and no abbreviation when the regulator is not recognised."""
    name, short = AGENCIES.get(str(table.get("label", "")), ("", ""))
    parts = [p.strip() for p in str(table.get("issuer", "")).split(";") if p.strip()]
    holders = [p for p in parts if not (name and name in p)]
    if not name or len(holders) == len(parts) or not holders:
        return _issuer(table), ""
    return ", ".join(holders).rstrip("."), short


def _label_card_text(table: Mapping[str, Any], sections: Iterable[str]) -> str:
    """Holder. Document, §4.2, 4.3. Regulator year — the sections of the figures this card
    used ("Pfizer Europe MA EEIG. XELJANZ (tofacitinib) ...: Summary of Product
    Characteristics, §4.2. EMA 2023")."""
    numbers: list[str] = []
    for section in sections:
        for part in section.split(";"):
            m = _SECTION_NUMBER.match(part)
            if m and m[1] not in numbers:
                numbers.append(m[1])
    where = f", §{', '.join(numbers)}" if numbers else ""
    holder, agency = _holder_and_agency(table)
    document = str(table.get("document", "")).rstrip(".")
    return f"{holder}. {document}{where}. {f'{agency} ' if agency else ''}{table['year']}"


def _label_section(labels: Mapping[str, Any], f: Finding, region: str) -> str:
    """The labels.toml section the finding's figure was read in ("" when unknown)."""
    drug_labels = labels.get(f.drug or "", {})
    if f.rule_id in LABEL_SECTIONS:
        part = drug_labels.get(region, {}).get(LABEL_SECTIONS[f.rule_id])
        return str(part.get("section", "")) if isinstance(part, dict) else ""
    if f.rule_id == DDI_RULE:
        classes = set(f.params.get("classes") or ())
        for entry in drug_labels.get("ddi", []):
            regional = entry.get(region)
            if isinstance(regional, dict) and classes & set(entry.get("classes", ())):
                return str(regional.get("section", ""))
    return ""


# --------------------------------------------------------------------------- cards

_LOOKUPS: dict[int, tuple[Any, Any, dict[str, Any], dict[Any, list[tuple[str, str]]]]] = {}
MEMO_SIZE = 4096  # card_sources answers kept per knowledge (then the memo starts again)


def _lookup(files: Mapping[str, Any]) -> tuple[dict[str, Any], dict[Any, list[tuple[str, str]]]]:
    """Finding source text -> what it cites: ("source", entry, card texts by language, made
    on first use) for sources.toml, ("label", drug, region, table) for a label; and the memo
    of card_sources answers. Built once per knowledge."""
    sources, labels = files.get("sources", {}), files.get("labels", {})
    cached = _LOOKUPS.get(id(files))
    if cached is not None and cached[0] is sources and cached[1] is labels:
        return cached[2], cached[3]
    table: dict[str, Any] = {}
    for entry in sources.values():
        if isinstance(entry, dict):
            table[compact_citation(entry)] = ("source", entry, {})
    for drug, regions in labels.items():
        if not isinstance(regions, dict):
            continue
        for region in REGIONS:
            label = regions.get(region)
            if isinstance(label, dict) and label.get("source"):
                table[label_key(label, region)] = ("label", drug, region, label)
    if len(_LOOKUPS) > 32:  # knowledge objects made by tests
        _LOOKUPS.clear()
    memo: dict[Any, list[tuple[str, str]]] = {}
    _LOOKUPS[id(files)] = (sources, labels, table, memo)
    return table, memo


def _memo_key(findings: list[Finding], language: str) -> tuple[Any, ...] | None:
    """What card_sources reads of the findings (None when a parameter is not hashable)."""
    try:
        key = tuple(
            (f.source, f.drug, f.rule_id, frozenset(f.params.get("classes") or ()))
            if f.rule_id == DDI_RULE
            else (f.source, f.drug, f.rule_id)
            for f in findings
        )
    except TypeError:
        return None
    return (language, key)


def card_sources(
    files: Mapping[str, Any], findings: Iterable[Finding], language: str = ""
) -> list[tuple[str, str]]:
    """The sources of a card's findings, each once, as (reference text, link), the first
    source of every finding before the second ones (so that the first few a card shows name
    each finding's main source, the lead finding's first). A drug's own label (sources.toml
    `drugs`) only on the cards of that drug; a label with the sections of the figures the card
    used. A source the knowledge does not know keeps its text, with a trailing URL as its link.

    The answer depends on the findings' sources, drugs, rule ids (and a JAKI-DDI finding's
    classes) and the language only: it is kept per knowledge and computed once."""
    lookup, memo = _lookup(files)
    findings = list(findings)
    key = _memo_key(findings, language)
    if key is not None:
        hit = memo.get(key)
        if hit is not None:
            return list(hit)
    out = _card_sources(files, lookup, findings, language)
    if key is not None:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[key] = list(out)
    return out


def _card_sources(
    files: Mapping[str, Any], lookup: dict[str, Any], findings: list[Finding], language: str
) -> list[tuple[str, str]]:
    labels = files.get("labels", {})
    ranked: list[tuple[int, int, str]] = []
    sections: dict[str, list[str]] = {}
    for index, f in enumerate(findings):
        parts = [p.strip() for p in f.source.split("; ") if p.strip()]
        for position, part in enumerate(parts):
            known = lookup.get(part)
            if known and known[0] == "source" and known[1].get("drugs"):
                if f.drug not in known[1]["drugs"]:
                    continue
            ranked.append((position, index, part))
            if known and known[0] == "label":
                section = _label_section(labels, f, known[2])
                listed = sections.setdefault(part, [])
                if section and section not in listed:
                    listed.append(section)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for _, _, part in sorted(ranked, key=lambda r: (r[0], r[1])):
        if part in seen:
            continue
        seen.add(part)
        known = lookup.get(part)
        if known is None:
            text, _, url = part.rpartition(", ")
            http = url.startswith(("https://", "http://"))
            out.append((text, url) if text and http else (part, ""))
        elif known[0] == "source":
            texts = known[2]  # card_text depends on the entry and the language only
            text = texts.get(language)
            if text is None:
                text = texts[language] = card_text(known[1], language)
            out.append((text, link(known[1])))
        else:
            label = known[3]
            out.append((_label_card_text(label, sections.get(part, [])), str(label["url"])))
    return out
