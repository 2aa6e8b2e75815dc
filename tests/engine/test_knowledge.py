"""Knowledge files: validated at start-up (a broken file stops start-up naming file and key),
institution overrides limited to configurable keys, local codes added to the value sets."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

import cards as cards_pkg
import cds_service.knowledge as knowledge_pkg
from cds_service.knowledge import KnowledgeError, load_knowledge, observation_loinc_codes
from cds_service.normalise import recognise_orders

SHIPPED = Path(knowledge_pkg.__file__).parent
K = load_knowledge()


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge folder."""
    target = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_knowledge_loads_with_every_value_set():
    vs = K.vs
    assert len(vs.obs_codes) > 50 and len(vs.cond_exact) > 200 and len(vs.drugs) > 60
    for drug in vs.drugs.values():
        if "steroid" in drug.classes:
            assert drug.prednisone_factor, drug.id


def test_every_jak_tyk2_and_biologic_of_spec_section_2_is_an_order_target():
    jaki = {
        "tofacitinib",
        "baricitinib",
        "upadacitinib",
        "filgotinib",
        "peficitinib",
        "abrocitinib",
        "ruxolitinib",
        "ritlecitinib",
        "delgocitinib",
    }
    biologics = {
        "infliximab",
        "adalimumab",
        "etanercept",
        "golimumab",
        "certolizumab",
        "tocilizumab",
        "sarilumab",
        "abatacept",
        "rituximab",
    }
    targets = {d.id: d.target for d in K.vs.drugs.values() if d.target}
    assert targets == {
        **dict.fromkeys(jaki, "jaki"),
        "deucravacitinib": "tyk2",
        **dict.fromkeys(biologics, "biologic"),
    }


def test_broken_toml_stops_start_up_naming_the_file(kdir: Path):
    edit(kdir / "valuesets" / "units.toml", "[crp]", "[crp")
    with pytest.raises(KnowledgeError, match="units.toml"):
        load_knowledge(kdir)


def test_unknown_concept_is_refused_naming_file_and_key(kdir: Path):
    edit(kdir / "valuesets" / "observations.toml", "[ferritin]", "[ferriten]")
    with pytest.raises(KnowledgeError, match=r"observations\.toml \[ferriten\]: unknown"):
        load_knowledge(kdir)


def test_unknown_medication_class_is_refused(kdir: Path):
    edit(
        kdir / "valuesets" / "medications.toml",
        'classes = ["oat3_strong_inhibitor"]',
        'classes = ["oat3_inhibitor"]',
    )
    with pytest.raises(KnowledgeError, match=r"\[probenecid\]\.classes: unknown"):
        load_knowledge(kdir)


def test_entry_without_source_is_refused(kdir: Path):
    edit(
        kdir / "valuesets" / "observations.toml",
        '{ code = "2157-6", display = "Creatine kinase [Enzymatic activity/volume] in Serum or '
        'Plasma", source = "spec6" }',
        '{ code = "2157-6", display = "Creatine kinase" }',
    )
    with pytest.raises(KnowledgeError, match=r"\[ck\]\.loinc\[0\]: missing source"):
        load_knowledge(kdir)


def test_one_code_mapping_to_two_concepts_is_refused(kdir: Path):
    edit(kdir / "valuesets" / "observations.toml", 'code = "2276-4"', 'code = "2157-6"')
    with pytest.raises(KnowledgeError, match="2157-6.*already maps to ck, not ferritin"):
        load_knowledge(kdir)


def test_one_drug_name_for_two_drugs_is_refused(kdir: Path):
    edit(
        kdir / "valuesets" / "medications.toml",
        'en = ["baricitinib", "olumiant"]',
        'en = ["baricitinib", "xeljanz"]',
    )
    with pytest.raises(KnowledgeError, match="xeljanz.*already maps to tofacitinib"):
        load_knowledge(kdir)


def test_bad_icd10_range_is_refused(kdir: Path):
    edit(kdir / "valuesets" / "conditions.toml", 'range = ["C81", "C86"]', 'range = ["C81", "D86"]')
    with pytest.raises(KnowledgeError, match=r"\[lymphoma\]\.icd10cm\[0\]\.range"):
        load_knowledge(kdir)


# --------------------------------------------------------------------------- overrides


@pytest.fixture
def rules_dir(kdir: Path) -> Path:
    (kdir / "rules_test.toml").write_text(
        '["TEST-RULE"]\nwindow_days = 365\nsource = "test"\nseverity = "warning"\n'
        'configurable = ["window_days"]\n',
        encoding="utf-8",
    )
    return kdir


def test_rule_naming_an_unknown_concept_is_refused(rules_dir: Path):
    edit(
        rules_dir / "rules_test.toml",
        "window_days = 365",
        'window_days = 365\nrisk_concepts = ["diabetes", "diabetis"]',
    )
    with pytest.raises(
        KnowledgeError, match=r"TEST-RULE\.risk_concepts: unknown concept 'diabetis'"
    ):
        load_knowledge(rules_dir)


def test_configurable_key_is_overridden(rules_dir: Path):
    k = load_knowledge(rules_dir, overrides={"TEST-RULE": {"window_days": 180}})
    assert k.rule("TEST-RULE")["window_days"] == 180
    assert load_knowledge(rules_dir).rule("TEST-RULE")["window_days"] == 365


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"TEST-RULE": {"severity": "info"}}, r"rules\.TEST-RULE\.severity: not configurable"),
        ({"TEST-RULE": {"window_days": "long"}}, r"window_days: expected int, got str"),
        ({"NO-SUCH-RULE": {"window_days": 1}}, r"rules\.NO-SUCH-RULE: unknown rule id"),
        ({"TEST-RULE": 3}, r"rules\.TEST-RULE: expected a table"),
    ],
)
def test_override_outside_the_configurable_keys_is_refused(rules_dir, override, message):
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(rules_dir, overrides=override)


# --------------------------------------------------------------------------- local codes


def test_local_medication_code_and_name_recognise_an_order():
    local = {
        "medications": {
            "tofacitinib": {
                "codes": [{"system": "urn:oid:1.2.392.100495.20.2.74", "code": "3999034F1021"}],
                "names": ["TOFA-LOCAL"],
            }
        }
    }
    k = load_knowledge(local_codes=local)
    by_code = {
        "resourceType": "MedicationRequest",
        "id": "a",
        "medicationCodeableConcept": {
            "coding": [{"system": "urn:oid:1.2.392.100495.20.2.74", "code": "3999034F1021"}]
        },
    }
    by_name = {
        "resourceType": "MedicationRequest",
        "id": "b",
        "medicationCodeableConcept": {"text": "tofa-local 5"},
    }
    assert [o.drug for o in recognise_orders([by_code, by_name], k)] == ["tofacitinib"] * 2
    assert recognise_orders([by_code, by_name], K) == []


def test_local_vaccine_names_and_new_cvx_codes():
    k = load_knowledge(
        local_codes={
            "vaccines": {
                "187": {"names": ["RZV-LOCAL"]},
                "900": {"live": True, "display": "local live"},
            }
        }
    )
    assert k.vs.vaccine_names["rzv-local"] == "187"
    assert k.vs.vaccines["900"].live is True
    with pytest.raises(KnowledgeError, match=r"codes\.vaccines\.901: a new CVX code needs live"):
        load_knowledge(local_codes={"vaccines": {"901": {"names": ["x"]}}})


@pytest.mark.parametrize(
    ("local", "message"),
    [
        ({"labs": {}}, r"config codes\.labs: unknown kind"),
        ({"observations": {"crp": {"codes": [{"code": "X"}]}}}, r"needs system and code"),
        (
            {"observations": {"crpp": {"codes": [{"system": "s", "code": "X"}]}}},
            r"\[crpp\]: unknown observation concept",
        ),
        ({"observations": {"crp": {"codez": []}}}, r"codes\.observations\.crp\.codez: unknown"),
        (
            {"observations": {"ck": {"codes": [{"system": "http://loinc.org", "code": "1988-5"}]}}},
            r"1988-5.*already maps to crp",
        ),
    ],
)
def test_broken_local_codes_are_refused(local, message):
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(local_codes=local)


# --------------------------------------------------------------------------- cross-checks


def test_observation_loinc_codes_for_the_prefetch_template():
    codes = observation_loinc_codes(K)
    assert len(codes) == len(set(codes))
    for code in (
        "88981-6",
        "88980-8",
        "75894-6",
        "75846-6",
        "75847-4",
        "75845-8",
        "4537-7",
        "30341-2",
        "1988-5",
        "30522-7",
        "98979-8",
        "62238-1",
        "33914-3",
        "82424-3",
        "39803-2",
        "72166-2",
        "39156-5",
        "5196-1",
        "16933-4",
        "2157-6",
        "2276-4",
    ):
        assert code in codes
    assert all(re.fullmatch(r"\d{1,6}-\d", c) for c in codes)


def test_every_test_a_rule_suggests_is_defined_in_tests_toml():
    defined = {k for k in K.files["tests"] if not k.startswith("_")}
    used: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("tests", "suggest_tests") and isinstance(value, list):
                    used.update(value)
                walk(value)

    for key, data in K.files.items():
        if key.startswith("rules_"):
            walk(data)
    assert used <= defined, used - defined
    for test_id in defined:
        entry = K.files["tests"][test_id]
        assert entry["text"] and entry["source"]


def test_spec_section_6_checked_codes_are_in_the_value_sets():
    vs = K.vs
    loinc = "http://loinc.org"
    assert vs.observation_code(loinc, "98979-8").concept == "egfr"
    assert vs.observation_code(loinc, "82424-3").concept == "anti_mda5"
    assert vs.observation_code(loinc, "39803-2").concept == "ifx_trough"
    assert vs.answer("qualitative", "http://snomed.info/sct", "10828004") == "positive"
    assert vs.answer("qualitative", "http://snomed.info/sct", "260385009") == "negative"
    assert vs.vaccines["121"].live and not vs.vaccines["187"].live
    assert vs.condition_concept("http://hl7.org/fhir/sid/icd-10-cm", "C44.91") == "nmsc"
    assert vs.condition_concept("http://hl7.org/fhir/sid/icd-10", "C44.9") == "nmsc"
    assert vs.condition_concept("http://hl7.org/fhir/sid/icd-10-cm", "M33.10") == "dermatomyositis"
    assert vs.condition_concept("http://hl7.org/fhir/sid/icd-10", "M33.1") == "dermatomyositis"


# RxNorm ingredient codes the project once recalled, as checked on 2026-12-04 in public code
# tables (valuesets/README.md): kept with the source that shows them, or removed.
RXNORM_CHECKED = {
    "35827": ("ketorolac", "rx_vsac"),
    "5224": ("heparin", "rx_vsac"),
    "67108": ("enoxaparin", "rx_vsac"),
    "10594": ("ticlopidine", "rx_vsac"),
    "4124": ("ethinylestradiol", "rx_vsac"),
    "4083": ("estradiol", "rx_vsac"),
    "6135": ("ketoconazole", "rx_vsac"),
    "28031": ("itraconazole", "rx_vsac"),
    "4450": ("fluconazole", "rx_vsac"),
    "614391": ("abatacept", "rx_pedsnet"),
    "1923319": ("sarilumab", "rx_pedsnet"),
    "1037042": ("dabigatran", "rx_ohdsi"),
}
RXNORM_REMOVED = {"2196092", "282446", "306266", "1546356"}  # no public source found

# Wording that marks a code as the project's recollection rather than a checked source.
UNCHECKED_WORDING = re.compile(
    r"recall|verify|unverified|not (yet )?(confirmed|verified|checked)", re.IGNORECASE
)


def _code_sources() -> dict[str, dict]:
    """The [_sources] tables and per-code source strings of every code list of the knowledge:
    valuesets/*.toml, the tests the service suggests ordering and the codes cards put into the
    resources they suggest."""
    files = sorted((SHIPPED / "valuesets").glob("*.toml")) + [
        SHIPPED / "tests.toml",
        Path(cards_pkg.__file__).parent / "fhir_codes.toml",
    ]
    return {f.name: tomllib.loads(f.read_text(encoding="utf-8")) for f in files}


def _per_code_sources(node, where: str):
    """(where, source) of every `source` string below a table of a code list."""
    if isinstance(node, dict):
        source = node.get("source")
        if isinstance(source, str):
            yield where, source
        for k, v in node.items():
            yield from _per_code_sources(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _per_code_sources(v, f"{where}[{i}]")


def test_no_code_source_is_labelled_recalled_or_unverified():
    """A clinician reading a code's source finds where it was checked: no list of the
    knowledge cites the project's memory or a check still to do."""
    for name, data in _code_sources().items():
        for key, text in data.get("_sources", {}).items():
            assert not UNCHECKED_WORDING.search(text), (name, key, text)
        tables = {k: v for k, v in data.items() if k != "_sources"}
        for where, source in _per_code_sources(tables, name):
            assert not UNCHECKED_WORDING.search(source), (where, source)


def test_rxnorm_codes_name_where_they_were_verified():
    """Every RxNorm code cites a public source of [_sources]; the once-recalled ingredient
    codes are kept only with the source that shows them, the others are gone."""
    path = SHIPPED / "valuesets" / "medications.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    sources = data["_sources"]
    listed: dict[str, tuple[str, str]] = {}
    for drug, table in data.items():
        if drug.startswith("_"):
            continue
        for entry in table.get("rxnorm", []):
            assert entry["source"] in sources, (drug, entry)
            listed[entry["code"]] = (drug, entry["source"])
    for code, expected in RXNORM_CHECKED.items():
        assert listed.get(code) == expected, code
    assert not RXNORM_REMOVED & listed.keys()


@pytest.mark.parametrize(
    ("code", "display", "drug"),
    [
        ("2196092", "upadacitinib", "upadacitinib"),
        ("282446", "posaconazole", "posaconazole"),
        ("306266", "entecavir", "entecavir"),
        ("1546356", "dabigatran", "dabigatran"),
    ],
)
def test_a_removed_ingredient_code_is_still_recognised_by_its_name(code, display, drug):
    """Removing an unverified code loses nothing a chart sends: RxNorm codings carry the
    drug name, and the name lists recognise it."""
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert K.vs.medication_code(rxnorm, code) is None
    found = K.vs.medication_in_text(display)
    assert found is not None and found.drug == drug


def test_an_upadacitinib_order_sent_with_its_rxnorm_ingredient_is_recognised():
    order = {
        "resourceType": "MedicationRequest",
        "id": "upa",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "2196092",
                    "display": "upadacitinib",
                }
            ]
        },
    }
    assert [o.drug for o in recognise_orders([order], K)] == ["upadacitinib"]


# --------------------------------------------------------------------------- citations


def test_reviewer_note_on_a_citation_is_accepted_and_never_rendered():
    from cds_service.knowledge.citations import citation, compact_citation

    entry = K.files["sources"]["binard-2008"]
    assert "not" in entry["checked"]
    assert entry["checked"] not in citation(entry) + compact_citation(entry)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'url = "https://pubmed.ncbi.nlm.nih.gov/18240260/"',
            'link = "https://pubmed.ncbi.nlm.nih.gov/18240260/"\nurl = "https://x.test/"',
            r"\[binard-2008\]: unknown field\(s\) \['link'\]",
        ),
        (
            'checked = "PMID 18240260',
            'checked = ""\n# "PMID 18240260',
            r"\[binard-2008\]: checked must be a non-empty text",
        ),
        (
            'journal = "Arthritis Rheum 59',
            'journl = "Arthritis Rheum 59',
            r"\[binard-2008\]: unknown field\(s\) \['journl'\]",
        ),
    ],
)
def test_misspelt_citation_field_stops_start_up(kdir: Path, old: str, new: str, message: str):
    edit(kdir / "sources.toml", old, new)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(kdir)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("year = 2023\n", "", r"\[tofacitinib.EU\]: year required to cite the label"),
        ("year = 2023\n", 'year = "2023"\n', r"\[tofacitinib.EU\]: year must be a number"),
        (
            'url = "https://www.ema.europa.eu/en/documents/product-information/xeljanz',
            'url = "http://www.ema.europa.eu/en/documents/product-information/xeljanz',
            r"\[tofacitinib.EU\]: url must be an https address",
        ),
    ],
)
def test_a_label_a_card_could_not_cite_stops_start_up(kdir: Path, old: str, new: str, message: str):
    edit(kdir / "labels.toml", old, new)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(kdir)
