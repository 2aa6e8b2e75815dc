"""The card catalogue: every text exists in all four languages, phrases use documented params.

A missing key in any language, a rule of the knowledge files without a phrase, or a phrase
that uses a parameter its rule does not document fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cards.catalogue import TEMPLATES, all_catalogues, catalogue, placeholders
from cards.language import LANGUAGES

KNOWLEDGE = Path(__file__).resolve().parents[2] / "cds_service" / "knowledge"

# Rule and score ids of clinical/SPEC.md §1, §3, §4, §5.
SPEC_RULES = """
JAKI-AGE-65 JAKI-SMOKER JAKI-MACE-RISK JAKI-VTE-HISTORY JAKI-VTE-RISK JAKI-MALIGNANCY
JAKI-SERIOUS-INFECTION JAKI-INFECTION-RISK JAKI-TB-ACTIVE JAKI-TB-SCREEN JAKI-HBV JAKI-HCV
JAKI-ZOSTER JAKI-LIVE-VACCINE JAKI-PREGNANCY JAKI-CONTRACEPTION JAKI-GI-PERFORATION
JAKI-LAB-ANC JAKI-LAB-ALC JAKI-LAB-HB JAKI-LAB-PLT JAKI-LAB-MISSING JAKI-LIPIDS
JAKI-RENAL-DOSE JAKI-HEPATIC JAKI-DOSE-MAX JAKI-DDI JAKI-COMBINATION JAKI-TOPICAL
JAKI-PARADOXICAL-ROSACEA JAKI-FILGOTINIB-FERTILITY RA-ACTIVITY RA-LOW-ACTIVITY RA-PAYER-DAS28
PMR-ACTIVITY PMR-OFF-LABEL PMR-GCA-SIGNS MYO-MDA5-ILD-RISK MYO-CK-TREND MYO-PJP-PROPHYLAXIS
ROSACEA-OFF-LABEL IFX-TDM-LOW IFX-ADA IFX-TDM-NONE IFX-INTERVAL IFX-MTX IFX-SCREEN
""".split()
SPEC_SCORES = """
DAS28-ESR DAS28-CRP DAS28-ESR-3 DAS28-CRP-3 CDAI SDAI EULAR-RESPONSE PMR-AS-CRP PMR-AS-ESR
PMR-FLARE
""".split()
TEST_IDS = """
igra tst hbv_serology hcv_ab cbc liver_panel creatinine lipid_panel pregnancy_test ifx_trough
ifx_antibody
""".split()


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _knowledge_rules() -> dict[str, dict[str, Any]]:
    """Rule tables of every rules_*.toml (read directly: only the files matter here)."""
    rules: dict[str, dict[str, Any]] = {}
    for path in sorted(KNOWLEDGE.glob("rules_*.toml")):
        rules.update(_read(path))
    return rules


def _shape(data: Any, prefix: str = "") -> dict[str, frozenset[str]]:
    """Every leaf key path with the placeholders of its text."""
    out: dict[str, frozenset[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_shape(value, f"{prefix}.{key}" if prefix else key))
    elif isinstance(data, str):
        out[prefix] = placeholders(data)
    elif isinstance(data, list):
        out[prefix] = frozenset()
    else:
        out[prefix] = frozenset()
    return out


def test_template_files_exist_for_every_language() -> None:
    assert sorted(p.stem for p in TEMPLATES.glob("*.toml")) == sorted(LANGUAGES)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_same_keys_and_placeholders_as_english(language: str) -> None:
    english = _shape(catalogue("en").data)
    other = _shape(catalogue(language).data)
    missing = sorted(set(english) - set(other))
    extra = sorted(set(other) - set(english))
    assert not missing, f"{language} lacks {missing}"
    assert not extra, f"{language} has keys English lacks: {extra}"
    for key in ("meta.language", "meta.name"):
        english.pop(key)
    differing = [k for k, fields in english.items() if other[k] != fields]
    assert not differing, f"{language}: placeholders differ from English in {differing}"
    assert catalogue(language).data["meta"]["language"] == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_spec_and_knowledge_rule_has_a_phrase(language: str) -> None:
    phrases = catalogue(language).data["rule"]
    wanted = set(SPEC_RULES) | set(_knowledge_rules())
    missing = sorted(wanted - set(phrases))
    assert not missing, f"{language}: no phrase for {missing}"
    for rule_id, entry in phrases.items():
        assert entry["short"].strip() and entry["text"].strip(), rule_id
        assert not placeholders(entry["short"]), f"{rule_id}: short takes no parameters"
        assert not placeholders(entry["text"]), f"{rule_id}: text takes no parameters"


def test_phrases_use_only_documented_parameters() -> None:
    rules = _knowledge_rules()
    problems = []
    for language, cat in all_catalogues().items():
        for rule_id, entry in cat.data["rule"].items():
            used = placeholders(entry.get("facts", ""))
            if not used:
                continue
            documented = rules.get(rule_id, {}).get("phrase_params")
            if documented is None:
                problems.append(f"{language} {rule_id}: uses {sorted(used)}, rule documents none")
                continue
            allowed = set(documented)  # a list of names, or a table name -> description
            if used - allowed:
                problems.append(f"{language} {rule_id}: {sorted(used - allowed)} undocumented")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_score_concept_test_and_reason_has_a_label(language: str) -> None:
    data = catalogue(language).data
    scores = set(SPEC_SCORES)
    scores_file = KNOWLEDGE / "scores.toml"
    if scores_file.exists():
        scores |= {k for k, v in _read(scores_file).items() if isinstance(v, dict) and k.isupper()}
    assert not scores - set(data["score"]), (
        f"{language}: no label for {scores - set(data['score'])}"
    )
    concepts = _read(KNOWLEDGE / "concepts.toml")
    wanted = {c for section in ("observation", "condition") for c in concepts.get(section, {})}
    wanted |= set(concepts.get("medication_class", {}))
    missing = sorted(wanted - set(data["concept"]))
    assert not missing, f"{language}: no label for concepts {missing}"
    tests = set(TEST_IDS)
    tests_file = KNOWLEDGE / "tests.toml"
    if tests_file.exists():
        tests |= {k for k in _read(tests_file) if not k.startswith("_")}
    assert not tests - set(data["test"]), (
        f"{language}: no label for tests {tests - set(data['test'])}"
    )
    assert {"info", "warning", "critical"} == set(data["severity"])


def test_locale_terms_follow_each_locale_guidelines() -> None:
    """Taiwan, mainland China and Japan name the same diseases differently."""
    terms = {
        "zh-TW": ("類風濕性關節炎", "帶狀皰疹", "結核"),
        "zh-CN": ("类风湿关节炎", "带状疱疹", "结核"),
        "ja": ("関節リウマチ", "帯状疱疹", "結核"),
    }
    for language, (ra, zoster, tb) in terms.items():
        concept = catalogue(language).data["concept"]
        assert concept["ra"] == ra
        assert concept["herpes_zoster"] == zoster
        assert tb in concept["tb_active"] and tb in concept["tb_latent"]
    assert "肺結核" in catalogue("zh-TW").data["concept"]["tb_active"]
    assert "潛伏結核" in catalogue("zh-TW").data["concept"]["tb_latent"]


def test_every_not_assessed_case_reads_in_every_language() -> None:
    """A case that is not an absence ("no X on file ...") needs its own phrase in each language;
    absences read "no X on file since D" from the missing concepts. Cases never shown on a card
    (a rule that is off for the region: only on its rule page) need none."""
    from cards.render import HIDDEN_CASES

    absence = re.compile(r"(^|: )no .* on file")
    problems = []
    for rule_id, table in _knowledge_rules().items():
        for case, spec in (table.get("missing") or {}).items():
            if not isinstance(spec, dict) or case in HIDDEN_CASES:
                continue
            fields = placeholders(spec.get("text", ""))
            for language, cat in all_catalogues().items():
                phrase = cat.data["not_assessed_case"].get(case)
                if phrase is None:
                    if not (spec.get("concepts") and absence.search(spec.get("text", ""))):
                        problems.append(f"{language}: no phrase for {rule_id} missing.{case}")
                elif not placeholders(phrase) <= fields:
                    extra = sorted(placeholders(phrase) - fields)
                    problems.append(f"{language} {case}: {extra} not in {rule_id}'s text")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (45.0, "45"),
        (5.4213, "5.42"),
        (0.0312, "0.031"),
        (150000, "150,000"),
        (9999, "9999"),
        (100000.0, "100,000"),
        (0.6, "0.6"),
        (-12000, "-12,000"),
    ],
)
def test_numbers_read_as_clinicians_write_them(value: float, text: str) -> None:
    from cards.catalogue import format_number

    assert format_number(value) == text
