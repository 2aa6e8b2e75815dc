"""Rule and score documentation, generated from the knowledge files and the card catalogue.

One page per rule id and score id (docs/rules/<ID>.md, also served at /docs/rules/<ID> so that
every card's source link resolves), plus an index with the status of every id. The pages are
built from the same data the engine and the cards read, so the two cannot drift: a test
regenerates them and compares with the committed files (`rheum-cds docs` rewrites them).
"""

from __future__ import annotations

from typing import Any

from cards.catalogue import all_catalogues
from cds_service.assess.registry import REGISTRY
from cds_service.assess.scores import SCORE_IDS
from cds_service.knowledge import Knowledge
from cds_service.knowledge.citations import (
    DDI_RULE,
    LABEL_SECTIONS,
    REGIONS,
    card_text,
    citation,
    label_citation,
    link,
    markdown_link,
)

_SOURCES: dict[str, Any] = {}  # sources.toml of the knowledge being documented

LANG_NAMES = {"en": "English", "zh-TW": "繁體中文", "zh-CN": "简体中文", "ja": "日本語"}
_META_KEYS = {
    "severity",
    "category",
    "applies_to",
    "configurable",
    "source",
    "source_ids",
    "phrase_params",
    "missing",
    "indications",
    "enabled",
}


def _value(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v) or "(none)"
    if isinstance(v, dict):
        return "; ".join(f"{k} = {_value(x)}" for k, x in v.items())
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def _sources(params: dict[str, Any]) -> list[str]:
    """Each source as its full citation (sources.toml), one per line."""
    ids = params.get("source_ids")
    if isinstance(ids, list) and all(i in _SOURCES for i in ids):
        out = []
        for i in ids:
            note = _SOURCES[i].get("note")
            out.append(f"- {citation(_SOURCES[i])}" + (f" — {note}" if note else ""))
        return out
    return [_value(params.get("source", "(none)"))]


def _short_sources(params: dict[str, Any]) -> str:
    """The sources as the index lists them: each its short reference linked to its DOI or URL."""
    ids = params.get("source_ids")
    if isinstance(ids, list) and all(i in _SOURCES for i in ids):
        return "; ".join(markdown_link(card_text(_SOURCES[i]), link(_SOURCES[i])) for i in ids)
    return _value(params.get("source", ""))


def _applies_to(rule_id: str) -> list[str]:
    import cds_service.assess.engine  # noqa: F401  (registers every rule)

    registered = REGISTRY.get(rule_id)
    return list(registered.applies_to) if registered else []


def _phrases(rule_id: str, section: str) -> list[str]:
    lines = ["## Card text", "", "| language | short | text |", "|---|---|---|"]
    for lang, cat in all_catalogues().items():
        entry = cat.data.get(section, {}).get(rule_id)
        if isinstance(entry, dict):
            text = " ".join(x for x in (entry.get("facts"), entry.get("text")) if x)
            lines.append(f"| {LANG_NAMES[lang]} | {entry.get('short', '')} | {text} |")
        elif isinstance(entry, str):
            lines.append(f"| {LANG_NAMES[lang]} | {entry} | |")
    return lines


def _label_lines(section: str, labels: dict[str, Any]) -> list[str]:
    """The per-drug, per-region label figures a rule judges with, where each was read, and
    whether it is on (a figure not confirmed is listed here and never shown on a card)."""
    lines = [
        "## Label figures (per region: the label text read, and where)",
        "",
        "| drug | region | label | status | section | what the label says | read at |",
        "|---|---|---|---|---|---|---|",
    ]
    for drug, regions in sorted(labels.items()):
        if not isinstance(regions, dict):
            continue
        for region, label in sorted(regions.items()):
            if not isinstance(label, dict) or section not in label:
                continue
            part = label[section]
            status = "on" if part.get("checked") else "off: not confirmed in the label text"
            document = label_citation(label)
            cells = [
                drug,
                region,
                f"[{document}]({label.get('url', '')})" if label.get("url") else document,
                status,
                str(part.get("section", "")),
                str(part.get("check", "")),
                str(part.get("read", "")),
            ]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return lines + [""]


def _ddi_lines(labels: dict[str, Any]) -> list[str]:
    """The interactions each label names (labels.toml [[<drug>.ddi]]), per region: the label
    cited, whether the entry is on, the section and what it says, and where it was read."""
    lines = [
        "## Label interactions (per region: the label text read, and where)",
        "",
        "| drug | interacting classes | region | label | action | status | section | "
        "what the label says | read at |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    english = all_catalogues()["en"]
    for drug, regions in sorted(labels.items()):
        if not isinstance(regions, dict):
            continue
        for entry in regions.get("ddi", []):
            for region in REGIONS:
                part = entry.get(region)
                if not isinstance(part, dict):
                    continue
                label = regions.get(region)
                if isinstance(label, dict) and label.get("url"):
                    cited = f"[{label_citation(label)}]({label['url']})"
                else:
                    cited = "no label for this region"
                status = "on" if part.get("checked") else "off: not confirmed in the label text"
                cells = [
                    drug,
                    ", ".join(english.label(c) for c in entry.get("classes", [])),
                    region,
                    cited,
                    str(part.get("action", "")),
                    status,
                    str(part.get("section", "")),
                    str(part.get("check", "")),
                    str(part.get("read", "")),
                ]
                lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return lines + [""]


def rule_page(rule_id: str, params: dict[str, Any], labels: dict[str, Any] | None = None) -> str:
    """The page of one rule, from its knowledge table."""
    configurable = set(params.get("configurable", []))
    applies = _applies_to(rule_id)
    lines = [
        f"# {rule_id}",
        "",
        f"- **Severity:** {_value(params.get('severity', ''))}",
        f"- **Card:** {params.get('category', '')}",
        f"- **Runs for:** {_value(applies) if applies else 'not registered'}",
    ]
    if "indications" in params:
        lines.append(f"- **Indications:** {_value(params['indications'])}")
    if params.get("enabled") is False:
        lines.append("- **Status:** off by default (institution switch or *verify*)")
    lines += ["", "## Source", "", *_sources(params), ""]
    rest = {k: v for k, v in params.items() if k not in _META_KEYS}
    if rest:
        lines += ["## Parameters", "", "| parameter | value | configurable |", "|---|---|---|"]
        for key, value in rest.items():
            lines.append(f"| {key} | {_value(value)} | {'yes' if key in configurable else ''} |")
        lines.append("")
    missing = params.get("missing", {})
    if missing:
        lines += ["## Not assessed when", ""]
        for case, spec in missing.items():
            text = spec.get("text", case) if isinstance(spec, dict) else str(spec)
            lines.append(f"- {text} — shown as *not assessed*, never as no risk")
        lines.append("")
    if rule_id in LABEL_SECTIONS and labels:
        lines += _label_lines(LABEL_SECTIONS[rule_id], labels)
    if rule_id == DDI_RULE and labels:
        lines += _ddi_lines(labels)
    lines += _phrases(rule_id, "rule")
    return "\n".join(lines).rstrip() + "\n"


def score_page(score_id: str, params: dict[str, Any]) -> str:
    lines = [
        f"# {score_id}",
        "",
        f"- **Enabled by default:** {_value(params.get('enabled', True))}",
    ]
    if "coef" in params:
        lines.append(f"- **Coefficients:** {_value(params['coef'])}")
    if "decimals" in params:
        lines.append(f"- **Rounded to:** {params['decimals']} decimals before categorising")
    bands = params.get("bands", [])
    if bands:
        lines += ["", "## Categories", "", "| category | upper bound |", "|---|---|"]
        for band in bands:
            upper = band.get("upper")
            bound = "—" if upper is None else ("≤ " if band.get("inclusive") else "< ") + str(upper)
            lines.append(f"| {band['category']} | {bound} |")
    rest = {
        k: v
        for k, v in params.items()
        if k not in {"enabled", "coef", "decimals", "bands", "source", "source_ids"}
    }
    if rest:
        lines += ["", "## Parameters", "", "| parameter | value |", "|---|---|"]
        lines += [f"| {k} | {_value(v)} |" for k, v in rest.items()]
    lines += ["", "## Source", "", *_sources(params), ""]
    lines += _phrases(score_id, "score")
    return "\n".join(lines).rstrip() + "\n"


def pages(knowledge: Knowledge) -> dict[str, str]:
    """Every page by file name (README.md is the index)."""
    out: dict[str, str] = {}
    _SOURCES.clear()
    _SOURCES.update(knowledge.files.get("sources", {}))
    scores = knowledge.files.get("scores", {})
    for score_id in SCORE_IDS:
        if score_id in scores:
            out[f"{score_id}.md"] = score_page(score_id, scores[score_id])
    for rule_id in sorted(knowledge.rules):
        out[f"{rule_id}.md"] = rule_page(
            rule_id, knowledge.rules[rule_id], knowledge.files.get("labels", {})
        )
    out["README.md"] = index(knowledge)
    return out


def index(knowledge: Knowledge) -> str:
    scores = knowledge.files.get("scores", {})
    lines = [
        "# Rules and scores",
        "",
        "Generated by `rheum-cds docs` from `cds_service/knowledge/` and `cards/templates/`;",
        "a test fails when this folder and the knowledge files differ. Status: *implemented* =",
        "registered in the engine and on by default; *off by default* = shipped behind a",
        "configuration switch (institution option, or a fact still marked *verify*).",
        "",
        "| id | kind | severity | status | source |",
        "|---|---|---|---|---|",
    ]
    for score_id in SCORE_IDS:
        if score_id in scores:
            p = scores[score_id]
            status = "implemented" if p.get("enabled", True) else "off by default"
            lines.append(
                f"| [{score_id}]({score_id}.md) | score | | {status} | {_short_sources(p)} |"
            )
        else:
            lines.append(f"| {score_id} | score | | **missing** | |")
    for rule_id in sorted(knowledge.rules):
        p = knowledge.rules[rule_id]
        registered = bool(_applies_to(rule_id))
        status = (
            ("off by default" if p.get("enabled") is False else "implemented")
            if registered
            else "**not registered**"
        )
        lines.append(
            f"| [{rule_id}]({rule_id}.md) | rule | {_value(p.get('severity', ''))} | "
            f"{status} | {_short_sources(p)} |"
        )
    return "\n".join(lines) + "\n"
