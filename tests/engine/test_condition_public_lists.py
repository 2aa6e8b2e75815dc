"""SNOMED CT codes of public lists first measured as held-out lists (docs/terminology.md), now
pinned inputs of the expansion builder: each extract is the pinned one, holds only codes that
no other input lists, and what its terms mean decides membership (a Condition sent with the
code alone is read as its concept; look-alikes are not)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.knowledge.expansion import conditions as build
from cds_service.model import PatientRecord
from cds_service.normalise import normalise
from tests.engine.condition_resources import active_condition

K = load_knowledge()
TODAY = date(2026, 12, 5)
SCT = "http://snomed.info/sct"


def concepts(code: str) -> frozenset[str]:
    """The concepts an active Condition coded with this SNOMED CT code alone is read as."""
    record = PatientRecord(
        patient_id="p", conditions=[active_condition({"coding": [{"system": SCT, "code": code}]})]
    )
    found = normalise(record, [], K, TODAY).problems
    return found[0].concepts if found else frozenset()


def concepts_of_text(text: str) -> frozenset[str]:
    """The concepts an active Condition carrying only this text is read as."""
    record = PatientRecord(patient_id="p", conditions=[active_condition({"text": text})])
    found = normalise(record, [], K, TODAY).problems
    return found[0].concepts if found else frozenset()


def origin() -> dict[str, str]:
    doc = json.loads(build.OUTPUT.read_text(encoding="utf-8"))
    return {r[0]: r[2] for t in doc["concepts"].values() for r in t["snomed"]}


def assert_pinned(input_id: str, path: Path, repos: list[tuple[str, str]]) -> None:
    """The extract's sha256 is the one the expansion records; its head names each repository
    at its commit and the licence; it lists only valid concept ids that no other extract
    lists (each code is read, and reviewed, once)."""
    doc = json.loads(build.OUTPUT.read_text(encoding="utf-8"))
    recorded = {i["id"]: i for i in doc["inputs"]}
    assert recorded[input_id]["sha256"] == build.sha256_file(path)
    head = [line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] == "#"]
    for repo, commit in repos:
        assert f"{repo}@{commit}" in recorded[input_id]["package"]
        assert any(repo in line and commit in line for line in head)
    assert any(line.startswith("# licence:") for line in head)
    rows, _ = build.read_ecqm(path)
    assert rows
    assert not {code for code, _, _ in rows} & build.codes_of_other_extracts(path)
    assert all(build.sctid_valid(code) for code, _, _ in rows)


# ------------------------------------------------------------ BHF DSC CVD-COVID-UK phenotypes


def test_the_bhf_extract_is_the_pinned_one():
    assert_pinned("bhf", build.BHF_FILE, [(s["repo"], s["commit"]) for s in build.BHF_SOURCES])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("203191000000107", "current_smoker"),  # Wants to stop smoking
        ("1092041000000104", "former_smoker"),  # Ex-very heavy smoker (40+/day)
        ("492191000000103", "former_smoker"),  # Ex roll-up cigarette smoker
    ],
)
def test_codes_of_the_bhf_lists_are_their_concept(code, expected):
    assert origin()[code] == "bhf"
    assert expected in concepts(code)


@pytest.mark.parametrize(
    ("code", "not_concept"),
    [
        ("237361005", "pregnancy"),  # Antepartum fetal death (the fetus's)
        ("445862009", "pregnancy"),  # Fetal death due to asphyxia
        ("1321541000000108", "serious_infection"),  # SARS-CoV-2 IgG detected (a test result)
    ],
)
def test_look_alikes_in_the_bhf_lists_are_not_the_concept(code, not_concept):
    assert not_concept not in concepts(code)


def test_bhf_extraction_reads_snomed_rows_of_both_csv_forms(tmp_path):
    old, new = (s["repo"].split("/")[1] for s in build.BHF_SOURCES)
    first = tmp_path / old / build.BHF_SOURCES[0]["path"]
    first.parent.mkdir(parents=True)
    # CCU002_01 writes each row as one quoted tuple
    first.write_text(
        '"(""name"",""terminology"",""code"",""term"",""code_type"",""RecordDate"",),"\r\n'
        '"(""Ex-smoker"",""SNOMED"",""1092041000000104"",""Ex-very heavy smoker (40+/day)'
        ' (finding)"","""","""",),"\r\n'
        '"(""Ex-smoker"",""SNOMED"",""1092041000000100"",""rounded by a spreadsheet'
        ' (finding)"","""","""",),"\r\n'
        '"(""Ex-smoker"",""SNOMED"",""228486009"",""Time since stopped smoking (observable'
        ' entity)"","""","""",),"\r\n'
        '"(""diabetes_drugs"",""DMD"",""325278007"",""Metformin (clinical drug)"",""1"",'
        '""20210127"",),"\r\n'
        '"(""liver_disease"",""CTV3_SNOMEDmapped"",""Portal cirrhosis"",""419728003"","""",'
        '"""",),"\r\n',
        encoding="utf-8",
    )
    second = tmp_path / new / build.BHF_SOURCES[1]["path"]
    second.parent.mkdir(parents=True)
    # 73211009 diabetes mellitus is in the GPS extract: read there, not here
    second.write_text(
        "name,terminology,code,term,code_type,RecordDate,covariate_only\n"
        "diabetes,SNOMED,73211009,Diabetes mellitus,1,20210127,null\n"
        "smoking_current,SNOMED,203191000000107,Wants to stop smoking (finding),,,null\n",
        encoding="utf-8",
    )
    extract = tmp_path / "extract.tsv"
    build.refresh_bhf(tmp_path, extract)
    rows, titles = build.read_ecqm(extract)
    assert [(code, name) for code, name, _ in rows] == [
        ("203191000000107", "Wants to stop smoking (finding)"),
        ("1092041000000104", "Ex-very heavy smoker (40+/day) (finding)"),
    ]
    assert set(titles.values()) == {"Ex-smoker", "smoking_current"}


# ------------------------------------------------ CPRD Aurum Charlson / Elixhauser code lists


def test_the_aurum_extract_is_the_pinned_one():
    source = build.AURUM_SOURCE
    assert_pinned("aurum", build.AURUM_FILE, [(source["repo"], source["commit"])])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("302192008", "hypertension"),  # on treatment for hypertension
        ("238134004", "obesity"),  # generalised obesity
        ("85407005", "ild"),  # pigeon-fanciers' lung
        ("198401000000104", "chronic_lung_disease"),  # copd disturbs sleep
        ("394672002", "diabetes"),  # o/e - right diabetic foot at high risk
    ],
)
def test_codes_of_the_aurum_lists_are_their_concept(code, expected):
    assert origin()[code] == "aurum"
    assert expected in concepts(code)


# Charlson's and Elixhauser's groups hold every code of a Read chapter: records of care, tests
# and look-alikes that the CPRD Aurum terms (Read-era, lower case, abbreviated) name in words
# the definitions first took
AURUM_LOOK_ALIKES = [
    ("269287005", "malignant hypothermia due to anaesthetic", "malignancy"),
    ("88082008", "[m]juvenila melanoma", "malignancy"),  # Spitz naevus (sic)
    ("189958005", "[m]lymphomatous tumour, benign", "lymphoma"),
    ("189958005", "[m]lymphomatous tumour, benign", "malignancy"),
    ("314767008", "bird fancier", "ild"),
    ("762994006", "new york heart assoc classification heart failure symptoms", "heart_failure"),
    ("1031571000000101", "hepatitis b nucleic acid detection", "hbv_chronic"),
    ("992771000000100", "hepatitis c virus genotype", "hcv_infection"),
    ("183097007", "diabetic leaflet given", "diabetes"),
    ("270440008", "hypertension monitored", "hypertension"),
    ("170586008", "hypertension treatm. started", "hypertension"),
    ("170587004", "hypertensive treatm.changed", "hypertension"),
    ("401047000", "hypertension treatment refused", "hypertension"),
    ("220901000000101", "other specified high cost hypertension drugs", "hypertension"),
    (
        "441562009",
        "basdai - bath ankylosing spondylitis disease activity index",
        "ankylosing_spondylitis",
    ),
    ("390890005", "refer to diabetic foot screener", "diabetes"),
    ("170760000", "diabetic drug side effects", "diabetes"),
    ("170752001", "has seen dietician - diabetes", "diabetes"),
    ("170774007", "diabetes: practice programme", "diabetes"),
    ("182781000", "diabetic stabilisation", "diabetes"),
    ("269823000", "hb. a1c - diabetic control", "diabetes"),
    ("408405001", "patient held diabetic record issued", "diabetes"),
    ("829521000000104", "provision of diabetes clinical summary", "diabetes"),
    ("876381000000100", "conversion to insulin by diabetes specialist nurse", "diabetes"),
    # Read 13L4, in a parent's record: the child's diabetes is a family history
    ("444094009", "diabetic child", "diabetes"),
]


@pytest.mark.parametrize(("code", "display", "not_concept"), AURUM_LOOK_ALIKES)
def test_look_alikes_in_the_aurum_lists_are_not_the_concept(code, display, not_concept):
    assert not_concept not in concepts(code)


@pytest.mark.parametrize(("code", "display", "not_concept"), AURUM_LOOK_ALIKES)
def test_look_alikes_in_the_aurum_lists_are_not_the_concept_by_their_text(
    code, display, not_concept
):
    assert not_concept not in concepts_of_text(display)


def test_a_cancer_detected_by_a_screening_programme_is_still_the_cancer():
    # 'programme' records care ("diabetes: practice programme"), a screening programme that
    # detected the cancer does not
    assert "malignancy" in concepts("94361000000105")
    assert "malignancy" in concepts_of_text(
        "Breast cancer detected by national screening programme"
    )


def test_aurum_extraction_takes_the_concepts_own_description_as_its_term(tmp_path):
    root = tmp_path / build.AURUM_SOURCE["repo"].split("/")[1]
    header = (
        "medcodeid\tterm\toriginalreadcode\tsnomedctconceptid\tsnomedctdescriptionid\treadcode"
        "\tcondition\tscore\n"
    )
    charlson, elixhauser = (root / p for p in build.AURUM_SOURCE["paths"])
    charlson.parent.mkdir(parents=True)
    charlson.write_text(
        header
        # an EMIS description first, then the concept's own description
        + "810811000006116\th/o: obesity\t22K\t238134004\t356991015\t22K.00\tObesity\t1\n"
        + "356991015\tgeneralised obesity\t22K\t238134004\t356991015\t22K.00\tObesity\t1\n"
        # in the GPS extract: read there
        + "1\tdiabetes mellitus\tC10\t73211009\t1\tC10.00\tDiabetes (uncomplicated)\t1\n",
        encoding="utf-8",
    )
    elixhauser.write_text(
        header + "2\tno snomed ct id\tX\tNA\tNA\tX.00\tObesity\t1\n", encoding="utf-8"
    )
    extract = tmp_path / "extract.tsv"
    build.refresh_aurum(tmp_path, extract)
    rows, titles = build.read_ecqm(extract)
    assert [(code, name) for code, name, _ in rows] == [("238134004", "generalised obesity")]
    assert set(titles) == {"AurumCharlson:Obesity"}


# ----------------------------------------------- Mondo Disease Ontology exactMatch mappings


def test_the_mondo_extract_is_the_pinned_one():
    source = build.MONDO_SOURCE
    assert_pinned("mondo", build.MONDO_FILE, [(source["repo"], source["commit"])])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("36351005", "thrombophilia"),  # hereditary antithrombin deficiency
        ("421527008", "thrombophilia"),  # thrombophilia due to activated protein C resistance
        ("27614006", "serious_infection"),  # intracranial abscess
        ("254937005", "malignancy"),  # brain glioma
        ("717269008", "obesity"),  # obesity due to melanocortin 4 receptor deficiency
    ],
)
def test_codes_of_the_mondo_mappings_are_their_concept(code, expected):
    assert origin()[code] == "mondo"
    assert expected in concepts(code)


@pytest.mark.parametrize(
    ("code", "text", "not_concept"),
    [
        # a congenital disruption of the fetus (the child's chart), not the mother's pregnancy
        ("440214006", "amniotic band syndrome", "pregnancy"),
        ("449829009", "Loeffler endocarditis", "serious_infection"),  # eosinophilic
        ("699346009", "hereditary neoplastic syndrome", "malignancy"),  # a predisposition
    ],
)
def test_look_alikes_in_the_mondo_mappings_are_not_the_concept(code, text, not_concept):
    assert not_concept not in concepts(code)
    assert not_concept not in concepts_of_text(text)


def test_mondo_extraction_reads_exact_matches_with_the_mondo_label(tmp_path):
    path = tmp_path / build.MONDO_SOURCE["repo"].split("/")[1] / build.MONDO_SOURCE["path"]
    path.parent.mkdir(parents=True)
    path.write_text(
        "# license: https://creativecommons.org/publicdomain/zero/1.0/\n"
        "subject_id\tsubject_label\tpredicate_id\tobject_id\tmapping_justification\n"
        "MONDO:1\thereditary antithrombin deficiency\tskos:exactMatch\tSCTID:36351005\tx\n"
        "MONDO:2\tother label, same code\tskos:exactMatch\tSCTID:36351005\tx\n"
        "MONDO:3\ta broader match\tskos:broadMatch\tSCTID:421527008\tx\n"
        # in the GPS extract: read there
        "MONDO:4\tdiabetes mellitus\tskos:exactMatch\tSCTID:73211009\tx\n",
        encoding="utf-8",
    )
    extract = tmp_path / "extract.tsv"
    build.refresh_mondo(tmp_path, extract)
    rows, _ = build.read_ecqm(extract)
    assert [(code, name) for code, name, _ in rows] == [
        ("36351005", "hereditary antithrombin deficiency")
    ]


# ---------------------------------- OHDSI map of ICD-O-3 morphologies to SNOMED CT morphologies


def test_the_icdo3_morphology_extract_is_the_pinned_one():
    source = build.ICDO3_SOURCE
    assert_pinned("icdo3_morph", build.ICDO3_FILE, [(source["repo"], source["commit"])])


@pytest.mark.parametrize(
    "code",
    [
        "733922002",  # NUT (nuclear protein in testis) associated carcinoma, 8023/3
        "128634009",  # basaloid squamous cell carcinoma, 8083/3
        "128667008",  # renal cell carcinoma, chromophobe cell, 8317/3
        "128716004",  # thymoma, type B3, malignant, 8585/3
        "128717008",  # thymoma, type C: thymic carcinoma, 8586/3
        "783213006",  # HPV negative squamous cell carcinoma (a marker, not a negation)
    ],
)
def test_malignant_histologies_of_the_icdo3_map_are_malignancy_by_code(code):
    assert origin()[code] == "icdo3_morph"
    assert "malignancy" in concepts(code)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("62283005", "Androblastoma (morphologic abnormality)"),  # 8630/1
        ("128764008", "Sialoblastoma (morphologic abnormality)"),  # 8974/1
        ("128758001", "Cystic partially differentiated nephroblastoma (morphologic abnormality)"),
        ("406096006", "Mixed germ cell-sex cord-stromal tumor (morphologic abnormality)"),
        ("128747005", "Metastasizing leiomyoma (morphologic abnormality)"),  # 8898/1
        ("703608004", "Myxoinflammatory fibroblastic sarcoma (morphologic abnormality)"),
        ("734100004", "Well-differentiated papillary mesothelioma (morphologic abnormality)"),
        ("128902002", "Intratubular malignant germ cells (morphologic abnormality)"),  # 9064/2
        ("115222007", "Paraganglioma AND/OR glomus tumor (morphologic abnormality)"),
        ("128880009", "Ductal carcinoma in situ, solid type (morphologic abnormality)"),
        ("41183007", "Mesothelioma, benign (morphologic abnormality)"),
    ],
)
def test_uncertain_in_situ_and_benign_histologies_of_the_icdo3_map_are_not_malignancy(code, text):
    assert "malignancy" not in concepts(code)
    assert "malignancy" not in concepts_of_text(text)


def test_the_same_uncertain_tumours_named_at_a_site_are_not_malignancy_either():
    assert "malignancy" not in concepts("789694004")  # WDPM of pleura (UK codelist term)
    assert "malignancy" not in concepts("1148935009")  # CPDN of kidney (UK codelist term)
    assert "malignancy" in concepts_of_text("Androblastoma, malignant")


def test_icdo3_extraction_reads_the_target_morphology_with_its_tag(tmp_path):
    path = tmp_path / build.ICDO3_SOURCE["repo"].split("/")[1] / build.ICDO3_SOURCE["path"]
    path.parent.mkdir(parents=True)
    path.write_text(
        '"code"\t"str"\t"relationship_id"\t"snomed_id"\t"snomed_code"\t"snomed_name"\t"precedence"\n'
        '"8023/3"\t"NUT carcinoma"\t"Maps to"\t37116896\t733922002\t"NUT carcinoma"\t\n'
        # a second ICD-O code mapped to the same target: the first name is kept
        '"8023/9"\t"x"\t"Is a"\t37116896\t733922002\t"Other name"\t\n'
        '"9999/3"\t"unmapped"\t""\t\t\t""\t\n'
        # in the GPS extract: read there
        '"8000/3"\t"Neoplasm, malignant"\t"Maps to"\t1\t86049000\t"Neoplasm, malignant"\t\n',
        encoding="utf-8",
    )
    extract = tmp_path / "extract.tsv"
    build.refresh_icdo3(tmp_path, extract)
    rows, _ = build.read_ecqm(extract)
    assert [(code, name) for code, name, _ in rows] == [
        ("733922002", "NUT carcinoma (morphologic abnormality)")
    ]


# ------------------------------------ the 2020 OpenCodelists lists (columns id,name,active)
# opensafely/hypertension-snomed and opensafely/asthma-diagnosis-snomed as downloaded into
# OpenSAFELY repositories, read into the more-UK-codelists input: they carry the inactive UK
# concepts older records still hold


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("170578008", "hypertension"),  # Poor hypertension control
        ("771901000000100", "chronic_lung_disease"),  # Asthma causes night time symptoms ...
        ("684211000000107", "hypertension"),  # Essential hypertension NOS (inactive)
        ("599341000000105", "hypertension"),  # Hypertensive disease NOS (inactive)
        ("414391000000105", "hypertension"),  # [X]Other secondary hypertension
        ("419571000000103", "hypertension"),  # [X]Hypertension secondary to other renal ...
        ("589231000000108", "chronic_lung_disease"),  # Extrinsic asthma NOS (inactive)
        ("653751000000109", "chronic_lung_disease"),  # Asthma attack NOS (inactive)
    ],
)
def test_inactive_codes_of_the_2020_lists_are_their_concept(code, expected):
    assert origin()[code] == "uk_more"
    assert expected in concepts(code)


def test_hypertension_resistant_to_drug_therapy_is_hypertension():
    # a disease resistant to drug therapy is the disease, not a procedure (QOF HYP_COD term)
    assert "hypertension" in concepts("845891000000103")
    assert "hypertension" in concepts("845901000000102")


@pytest.mark.parametrize(
    ("code", "not_concept"),
    [
        # the ICD-10 block heading O10-O16: gestational oedema and proteinuria with pre-existing
        # hypertension, not the patient's own hypertension
        ("478861000000109", "hypertension"),
        ("170588009", "hypertension"),  # Treatment for hypertension stopped
        ("170586008", "hypertension"),  # Treatment for hypertension started
        ("302341000000102", "chronic_lung_disease"),  # RCP asthma outcome measure
        ("272791000000105", "hypertension"),  # Primary pulmonary hypertension drugs band 1
    ],
)
def test_look_alikes_of_the_2020_lists_are_not_the_concept(code, not_concept):
    assert not_concept not in concepts(code)


def test_the_2020_lists_are_read_with_their_semantic_tag_cut_off(tmp_path):
    repo = "opensafely/FLUCATS"
    lists = tmp_path / "FLUCATS" / "codelists"
    lists.mkdir(parents=True)
    (lists / "opensafely-hypertension-snomed.csv").write_text(
        "id,name,active,notes\n"
        "684211000000107,Essential hypertension NOS (disorder),n,via Query Table\n"
        "843851000000107,Severe hypertension ,n,via Query Table\n"
        # a parenthetical that is no SNOMED CT semantic tag is part of the name
        "70272006,Hypertension (malignant),n,\n"
        # tags that never name a condition: not read
        "308503007,Hypertension monitoring call (procedure),y,\n"
        "170574005,Yearly observation of borderline hypertension (regime/therapy),y,\n",
        encoding="utf-8",
    )
    extract = tmp_path / "extract.tsv"
    build.refresh_opensafely(
        tmp_path,
        extract,
        sources=((repo, "0" * 40, "MIT"),),
        only={repo: build.UK_MORE_ONLY[repo]},
        old_lists=True,
    )
    rows, titles = build.read_ecqm(extract)
    assert sorted((code, name) for code, name, _ in rows) == [
        ("684211000000107", "Essential hypertension NOS"),
        ("70272006", "Hypertension (malignant)"),
        ("843851000000107", "Severe hypertension"),
    ]
    assert set(titles) == {"opencodelists:opensafely-hypertension-snomed"}


# ------------------------- CPRD Aurum diagnosis lists of a study of CVD in patients with cancer
# (Ali-Alshahrani/code_lists, CC BY 4.0, 2025-2026): UK Edition, EMIS and 2021-2024 concepts the
# older inputs do not list, read by their CPRD Aurum terms; the treatment and procedure lists of
# the repository are not read


def test_the_cprd_cvd_cancer_extract_is_the_pinned_one():
    source = build.CVD_CANCER_SOURCE
    assert_pinned("cprd_cvd_cancer", build.CVD_CANCER_FILE, [(source["repo"], source["commit"])])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("397082006", "malignancy"),  # Salivary duct carcinoma
        ("719105002", "malignancy"),  # Small cell neuroendocrine carcinoma
        ("12237071000119100", "pad"),  # Intermittent claudication of left lower limb ... atheroscl.
        ("141911000119100", "dvt"),  # History of recurrent deep vein thrombosis
        ("81037000", "stroke"),  # Lacunar infarct
        ("932081000006102", "mi"),  # First myocardial infarction (EMIS concept)
    ],
)
def test_codes_of_the_cprd_cvd_cancer_lists_are_their_concept(code, expected):
    assert origin()[code] == "cprd_cvd_cancer"
    assert expected in concepts(code)


@pytest.mark.parametrize(
    ("code", "text", "not_concept"),
    [
        ("315623009", "FH angina male first degree age known", "cad"),
        ("315619001", "FH myocardial infarction male first degree age known", "mi"),
        ("1104241000000108", "ex-smoker in household", "former_smoker"),
        (
            "1899561000006105",
            "mother's smoking status at time of baby's birth - ex-smoker",
            "former_smoker",
        ),
        ("259925005", "Polymyositis-scleroderma antibody", "polymyositis"),
        ("910191000006109", "[RFC] Cancer prevention", "malignancy"),
        ("897202005", "Gleason scoring system for malignant neoplasm of prostate", "malignancy"),
        (
            "1861731000006105",
            "AURAS-AF - consider the patient to have heart failure",
            "heart_failure",
        ),
        ("328566006", "hypercholesterolaemia food", "dyslipidaemia"),
        ("250289002", "Lymphosarcoma cell", "lymphoma"),
        (
            "63221000000105",
            "PMBCL (primary mediastinal B cell lymphoma) tumour and germline WGS",
            "lymphoma",
        ),
        ("270486005", "Localised obesity", "obesity"),  # ICD-10 E65 localised adiposity
        ("49158009", "Emphysema (morphologic abnormality)", "chronic_lung_disease"),
    ],
)
def test_look_alikes_of_the_cprd_cvd_cancer_lists_are_not_the_concept(code, text, not_concept):
    assert not_concept not in concepts(code)
    assert not_concept not in concepts_of_text(text)


def test_cprd_cvd_cancer_extraction_reads_the_diagnosis_lists_only(tmp_path):
    source = build.CVD_CANCER_SOURCE
    root = tmp_path / source["repo"].split("/")[1] / source["folder"]
    (root / "cancer").mkdir(parents=True)
    (root / "cancer" / "cancer_aurum.txt").write_text(
        "medcodeid\tdesc\tsnomedctconceptid\tcancertype\n"
        "1\tSalivary duct carcinoma\t397082006\tother\n"
        # a second row of the same concept: the first term is kept
        "2\tCarcinoma of salivary duct\t397082006\tother\n"
        # in the GPS extract: read there
        "3\tMalignant neoplasm of colon\t363406005\tcolon\n"
        "4\tno concept id\t\tother\n",
        encoding="utf-8",
    )
    (root / "cancer" / "chemotherapy_aurum.txt").write_text(
        "medcodeid\tdesc\tsnomedctconceptid\n5\tChemotherapy\t367336001\n", encoding="utf-8"
    )
    extract = tmp_path / "extract.tsv"
    build.refresh_cvd_cancer(tmp_path, extract)
    rows, titles = build.read_ecqm(extract)
    assert [(code, name) for code, name, _ in rows] == [("397082006", "Salivary duct carcinoma")]
    assert list(titles.values()) == ["cancer/cancer_aurum"]
