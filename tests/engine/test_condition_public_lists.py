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
