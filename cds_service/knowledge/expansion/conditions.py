"""Build the condition expansions (valuesets/expansions/conditions.json) from their definitions.

Run from the repository root:

    python -m cds_service.knowledge.expansion.conditions            # rebuild the expansion file
    python -m cds_service.knowledge.expansion.conditions --check    # exit 1 if the file is stale
    python -m cds_service.knowledge.expansion.conditions --review   # print the look-alike review
    python -m cds_service.knowledge.expansion.conditions --refresh-gps DIR   # re-extract the GPS
    python -m cds_service.knowledge.expansion.conditions --refresh-r4x DIR   # re-extract R4's
    python -m cds_service.knowledge.expansion.conditions --refresh-ecqm DIR  # re-extract eCQM's
    python -m cds_service.knowledge.expansion.conditions --refresh-ohdsi DIR  # re-extract OHDSI's
    python -m cds_service.knowledge.expansion.conditions --refresh-ecr DIR   # re-extract eCR's
    python -m cds_service.knowledge.expansion.conditions --refresh-fhir-ig DIR  # FHIR IG value sets
    python -m cds_service.knowledge.expansion.conditions --refresh-ecqm-more DIR  # more eCQM/dQM
    python -m cds_service.knowledge.expansion.conditions --refresh-morphology DIR  # morphologies
    python -m cds_service.knowledge.expansion.conditions --refresh-opensafely DIR  # UK lists
    python -m cds_service.knowledge.expansion.conditions --refresh-ohdsi-studies DIR  # OHDSI
    python -m cds_service.knowledge.expansion.conditions --refresh-opensafely-more DIR  # UK
    python -m cds_service.knowledge.expansion.conditions --refresh-uk-hierarchies DIR  # UK
    python -m cds_service.knowledge.expansion.conditions --refresh-bhf DIR  # CVD-COVID-UK
    python -m cds_service.knowledge.expansion.conditions --refresh-aurum DIR  # CPRD Aurum
    python -m cds_service.knowledge.expansion.conditions --refresh-mondo DIR  # Mondo SSSOM
    python -m cds_service.knowledge.expansion.conditions --refresh-cvd-cancer DIR  # CPRD Aurum

Inputs, pinned and recorded in the output with their licence:

- SNOMED CT: the SNOMED International Global Patient Set (GPS, CC BY 4.0), September 2020
  release, as shipped in the npm package hl7.terminology.r4 7.0.1 (ValueSet-snomed-intl-gps);
  `inputs/snomed-gps-20200930.tsv` is its extract of disorders, findings, situations and events
  (regenerate with --refresh-gps from the unpacked package; the file's sha256 is checked). The
  GPS carries no hierarchy, so membership of a GPS concept is decided from its fully specified
  name by each concept's `definition` in valuesets/conditions.toml (`include` patterns, `exclude`
  patterns with the reason, explicit `codes` and `not_codes`). Codes outside the GPS that the
  concept lists by hand (`snomed = [...]`, each with its source) are kept as they are.
- SNOMED CT clinical findings outside the GPS: the expansions the FHIR R4 specification
  publishes of its clinical-finding value sets (every member a descendant of 404684003
  |Clinical finding|), npm package hl7.fhir.r4.examples 4.0.1 (CC0),
  Bundle-valueset-expansions.json; `inputs/fhir-r4-finding-expansions.tsv` is the extract of
  the codes that are not in the GPS (--refresh-r4x; sha256 checked). Their displays carry no
  semantic tag; the same definitions decide their membership as for the GPS.
- SNOMED CT codes of public code lists, each a pinned extract with its sha256 and the commit
  it came from (see ECQM_SOURCES, OHDSI_SOURCE, ECR_SOURCE): the eCQM value sets (NLM VSAC),
  the OHDSI Phenotype Library concept sets (OMOP concept class read as the semantic tag) and
  the eCR Reportable Condition Trigger Codes; and (FHIR_IG_SOURCES) the SNOMED CT value sets of
  FHIR implementation guides and CDS content (FHIR R5/R4B/STU3 expansions, mCODE, the IPS free
  set, CDC opioid CDS); and (ECQM_MORE_SOURCES) more eCQM / dQM value sets (dQM 2026, APHL
  chronic disease IG, eCQM 2021-2023). A list's
  label is evidence, never membership:
  the same definitions decide, and a member of a list that a definition names (`valuesets`)
  but does not take is recorded in the review with the reason.
- SNOMED CT UK Edition codes of public UK codelists (UK_SOURCES): the OpenCodelists codelists
  (OpenSAFELY's, NHS Digital primary care domain reference sets, PRIMIS) downloaded into
  OpenSAFELY study repositories, extracted with --refresh-opensafely. Their preferred terms
  carry no semantic tag and the lists mix diagnoses with what a practice records about them
  (reviews, invitations, "resolved", procedures): such a term (conditions.toml
  [_not_a_condition]) is not taken, and a term naming alternatives "(A) or (B)" is taken only
  if each alternative means the concept (classify_untagged). UK-extension concept ids
  (namespace 1000000) are kept when the definition takes their term.
- More UK codelists (UK_MORE_SOURCES, --refresh-opensafely-more): the diagnosis codelists
  (UK_MORE_ONLY) of more OpenSAFELY study repositories, read as the UK input (no semantic
  tag), medicinal products (UK Drug Extension ids) left out.
- UK Edition hierarchies (UK_HIERARCHY_SOURCE, --refresh-uk-hierarchies): the "all
  descendants" codelists of whole SNOMED CT UK Edition hierarchies (neoplastic disease, the
  disorders of each organ system, metabolic disease, ...) downloaded into one OpenSAFELY
  repository, other than the four the UK input reads; only the codes no other input lists are
  extracted, read as the UK input's (no semantic tag). A hierarchy lists every descendant of a
  disorder grouper, so almost all of its codes belong to no concept: the definitions decide.
- SNOMED CT codes of the concept sets of OHDSI network study repositories
  (OHDSI_STUDY_SOURCES: ohdsi-studies/*, OHDSI/StudyProtocols), read as the Phenotype
  Library's (OMOP concept class as semantic tag), extracted with --refresh-ohdsi-studies; they
  come last and only add codes no earlier input lists.
- Public lists first measured as held-out lists (docs/terminology.md), read after all the
  above and each only for the codes no other extract lists: the SNOMED CT rows of the BHF
  Data Science Centre's CVD-COVID-UK phenotype code lists (BHF_SOURCES, --refresh-bhf; fully
  specified names and preferred terms mixed, classify_mixed); then those of the CPRD Aurum
  Charlson and Elixhauser code lists of the Pharmacoepi Data Collaborative (AURUM_SOURCE,
  --refresh-aurum; CPRD Aurum terms, read as the UK input's); last the exactMatch mappings
  of the Mondo Disease Ontology to SNOMED CT (MONDO_SOURCE, --refresh-mondo), each code with
  the label of the Mondo disease it matches (Mondo publishes no SNOMED CT term), read as an
  untagged term.
  After them the CPRD Aurum diagnosis code lists of a study of cardiovascular disease in
  patients with cancer (CVD_CANCER_SOURCE, --refresh-cvd-cancer; CC BY 4.0, 2025-2026), read as
  the UK input (CPRD Aurum terms, no semantic tag): UK Edition, EMIS and 2021-2024
  International concepts that the older lists do not carry.
  Not inputs, their licence not allowing redistribution: the PEDSnet Variable Dictionary code
  sets and a US consumer-health app's SNOMED CT pick list (mayodtit/RHSMocker): neither
  repository states a licence.
- ICD-10-CM: the complete FY2026 tabular list (public domain, CDC/NCHS) from the PyPI package
  simple-icd-10-cm (data file icd10c-tabular-April-1-2026.xml; its sha256 is checked). The
  ICD-10-CM expansion of a concept is every code of the tabular list that the service's own
  matcher (knowledge/index.py, from the `icd10cm` / `icd10` entries of conditions.toml) maps to
  that concept, so the expansion is exactly what the service recognises.

Each GPS concept that a look-alike pattern (see LOOKALIKES) or a concept's `exclude` pattern
catches is listed in the review (valuesets/expansions/conditions-review.json, not loaded by the
service) with the decision and its reason; an expansion
changes only through the definitions, and the test suite checks that the committed file is
what this script produces.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cds_service.knowledge.meaning import (
    GPS_TAGS,
    MORPHOLOGY_TAG,
    UNTAGGED_MORPHOLOGY,
    Definition,
    NotACondition,
    fsn_parts,
    judge,
    judge_untagged,
    load_definitions,
    load_not_a_condition,
    resolve,
    split_tag,
)

KNOWLEDGE = Path(__file__).resolve().parent.parent
INPUTS = Path(__file__).resolve().parent / "inputs"
GPS_FILE = INPUTS / "snomed-gps-20200930.tsv"
# the semantic tags of the GPS extract: every tag a definition may read (GPS_TAGS, and the
# morphologic abnormalities that the neoplasm definitions read: MORPHOLOGY_TAG)
GPS_EXTRACT_TAGS = (*GPS_TAGS, MORPHOLOGY_TAG)
# SNOMED CT morphologic abnormalities outside the GPS: the expansions the FHIR R5 and R4B
# specifications publish of ValueSet/bodystructure-code (`is-a 49755003 |Morphologically abnormal
# structure|`, the first 1 000 members of each edition), with the fully specified name each
# member carries as a designation
MORPH_FILE = INPUTS / "fhir-morphology-snomed.tsv"
MORPH_VALUESET = "http://hl7.org/fhir/ValueSet/bodystructure-code"
MORPH_SOURCES = ("r5x", "r4bx")  # ids of FHIR_IG_SOURCES: the npm packages read
R4X_FILE = INPUTS / "fhir-r4-finding-expansions.tsv"
CONDITIONS = KNOWLEDGE / "valuesets" / "conditions.toml"
CONCEPTS = KNOWLEDGE / "concepts.toml"
OUTPUT = KNOWLEDGE / "valuesets" / "expansions" / "conditions.json"
# the review is a file of its own: the service loads OUTPUT at start and never reads the review
REVIEW_OUTPUT = KNOWLEDGE / "valuesets" / "expansions" / "conditions-review.json"

GPS_INPUT = {
    "id": "gps",
    "name": "SNOMED CT Global Patient Set (GPS), September 2020 (International Edition 20200731)",
    "package": "npm hl7.terminology.r4 7.0.1, package/ValueSet-snomed-intl-gps.json",
    "package_integrity": (
        "sha512-UamZUcARk/TEaJb7X0hDyANmC7bCv0Jof0u0uGIOB2O9VQX0uV45Vf4EyONHM6Sejv6q7sXEAzKAQsgw1Cld3A=="
    ),
    "licence": "CC BY 4.0 (SNOMED CT is (c) and (R) SNOMED International; no endorsement)",
    "extract": "cds_service/knowledge/expansion/inputs/snomed-gps-20200930.tsv",
}
R4X_INPUT = {
    "id": "r4x",
    "name": (
        "SNOMED CT clinical findings of the FHIR R4 value-set expansions"
        " (SNOMED CT Canadian Edition 20161031), codes outside the GPS"
    ),
    "package": "npm hl7.fhir.r4.examples 4.0.1, package/Bundle-valueset-expansions.json",
    "package_integrity": (
        "sha512-DXBdIZOeQaSKIgCU7w6HOC7sw/6BzylmipLkBW4f//pT+Bc94x+8LImwTdvaNThPJoOzpBzvxAzNqjeu3X/zLw=="
    ),
    "licence": (
        "FHIR specification CC0-1.0; SNOMED CT is (c) and (R) SNOMED International, published"
        " in the HL7 FHIR specification"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/fhir-r4-finding-expansions.tsv",
}
# The value sets of that bundle whose definition is `is-a 404684003 |Clinical finding|`
# (condition-code adds 160245001 |No current problems or disability|, which no concept takes).
R4X_VALUESETS = (
    "http://hl7.org/fhir/ValueSet/adverse-event-type",
    "http://hl7.org/fhir/ValueSet/clinical-findings",
    "http://hl7.org/fhir/ValueSet/condition-code",
    "http://hl7.org/fhir/ValueSet/condition-outcome",
    "http://hl7.org/fhir/ValueSet/flag-code",
    "http://hl7.org/fhir/ValueSet/manifestation-or-symptom",
    "http://hl7.org/fhir/ValueSet/medication-as-needed-reason",
)
ECQM_FILE = INPUTS / "ecqm-valuesets-snomed.tsv"
# in this order: a code's display is the one of the first repository that lists it (the
# 2025 expansions come last so that they add codes without renaming the earlier ones)
ECQM_SOURCES = (
    {
        "repo": "cqframework/ecqm-content-cms-2025",
        "commit": "d80fd0ae5cae13780a0132c10192e2613cebb559",
        "url": "https://github.com/cqframework/ecqm-content-cms-2025",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
    {
        "repo": "cqframework/ecqm-content-qicore-2024",
        "commit": "9ebd48ffebf2ed2489f3904cc8393ebf8979bfc9",
        "url": "https://github.com/cqframework/ecqm-content-qicore-2024",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
    {
        "repo": "cqframework/ecqm-content-r4",
        "commit": "04f5c4919ee8a56e24484c3269f74d47b03e3d75",
        "url": "https://github.com/cqframework/ecqm-content-r4",
        "licence": (
            "no licence file in the repository; value sets published by NLM VSAC for CMS eCQMs"
        ),
    },
    {
        "repo": "cqframework/ecqm-content-qicore-2025",
        "commit": "db5a7e143304b19b70cbf6a89e5ebeab9e40df61",
        "url": "https://github.com/cqframework/ecqm-content-qicore-2025",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
)
ECQM_INPUT = {
    "id": "ecqm",
    "name": (
        "SNOMED CT codes of the eCQM value-set expansions (NLM VSAC, US Edition) published in"
        " the CQF eCQM content repositories"
    ),
    "package": " ".join(f"{s['url']}@{s['commit']}" for s in ECQM_SOURCES),
    "licence": (
        "repositories CC0-1.0 (ecqm-content-r4: none stated); value sets from NLM VSAC, SNOMED CT"
        " is (c) and (R) SNOMED International, distributed in the US under the UMLS licence"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/ecqm-valuesets-snomed.tsv",
}
ECQM_MORE_FILE = INPUTS / "ecqm-more-snomed.tsv"
# the dQM (digital quality measure) content of 2026, the APHL chronic disease surveillance IG
# and earlier years' eCQM content (value-set versions of 2021-2023): newer codes, and codes
# since retired from the current expansions that are still on charts. Test fixtures (folders
# named `tests`) are not read, nor one value-set bundle of aphl-chronic-ig that the repository
# snapshot read here lacks (its large blob): the value sets of the blood-pressure measure
# CMS165, whose current versions the eCQM input holds.
ECQM_MORE_SKIP = (
    "tests",
    "aphl-chronic-ig/archive-2021/bundles/measure/ControllingBloodPressure"
    "/ControllingBloodPressure-files/valuesets-ControllingBloodPressure-bundle.json",
)
ECQM_MORE_SOURCES = (
    {
        "repo": "cqframework/dqm-content-cms-2026",
        "commit": "40f95fb70af7f497c641b0d83016439a3eefa4cd",
        "url": "https://github.com/cqframework/dqm-content-cms-2026",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
    {
        "repo": "cqframework/aphl-chronic-ig",
        "commit": "76394d64fbf058bc28f3f3527e2f71ecf046cd4f",
        "url": "https://github.com/cqframework/aphl-chronic-ig",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
    {
        "repo": "cqframework/ecqm-content-qicore-2023",
        "commit": "df021518fe507ea2bcd79b2f3c05ed7eb69ff058",
        "url": "https://github.com/cqframework/ecqm-content-qicore-2023",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
    {
        "repo": "cqframework/ecqm-content-qicore-2022",
        "commit": "66154a37228290a0da13a08f08caf7778cdc74dd",
        "url": "https://github.com/cqframework/ecqm-content-qicore-2022",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
    {
        "repo": "cqframework/ecqm-content-r4-2022",
        "commit": "b33746e638691d7cb708542f6377f14ca2f9b1e0",
        "url": "https://github.com/cqframework/ecqm-content-r4-2022",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
    {
        "repo": "cqframework/ecqm-content-r4-2021",
        "commit": "0be9c6864640478209add3b5c99178291986a0e0",
        "url": "https://github.com/cqframework/ecqm-content-r4-2021",
        "licence": "CC0-1.0 (repository LICENSE)",
    },
)
ECQM_MORE_INPUT = {
    "id": "ecqm_more",
    "name": (
        "SNOMED CT codes of more eCQM / dQM value-set expansions (NLM VSAC, US Edition): CQF"
        " dQM content 2026, the APHL chronic disease IG, eCQM content 2021-2023"
    ),
    "package": " ".join(f"{s['url']}@{s['commit']}" for s in ECQM_MORE_SOURCES),
    "licence": (
        "repositories CC0-1.0; value sets from NLM VSAC, SNOMED CT is (c) and (R) SNOMED"
        " International, distributed in the US under the UMLS licence"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/ecqm-more-snomed.tsv",
}
OHDSI_FILE = INPUTS / "ohdsi-phenotype-snomed.tsv"
OHDSI_SOURCE = {
    "repo": "OHDSI/PhenotypeLibrary",
    "commit": "40106e4e2892d883c208b9df10ad56711da3e21d",
    "url": "https://github.com/OHDSI/PhenotypeLibrary",
    "path": "inst/cohorts/*.json",
    "licence": "Apache-2.0 (DESCRIPTION: License: Apache License)",
}
OHDSI_INPUT = {
    "id": "ohdsi",
    "name": (
        "SNOMED CT disorders, findings, situations and events of the concept sets of the OHDSI"
        " Phenotype Library cohort definitions"
    ),
    "package": f"{OHDSI_SOURCE['url']}@{OHDSI_SOURCE['commit']} {OHDSI_SOURCE['path']}",
    "licence": (
        "Apache-2.0 (OHDSI Phenotype Library); SNOMED CT is (c) and (R) SNOMED International,"
        " concept names as in the OHDSI standardized vocabularies"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/ohdsi-phenotype-snomed.tsv",
}
OHDSI_STUDIES_FILE = INPUTS / "ohdsi-studies-snomed.tsv"
# OHDSI network study repositories: the concept sets of their cohort definitions (ATLAS JSON,
# in inst/cohorts/, inst/settings/, CohortDiagnostics/Cohorts/...) and their stand-alone concept
# set expressions, read as the Phenotype Library's are (OMOP concept class as semantic tag). A
# set lists the SNOMED CT concepts its authors named, often a few with their descendants: the
# descendants are not listed and are not read.
OHDSI_STUDY_SOURCES = (
    {
        "repo": "ohdsi-studies/Covid19CharacterizationCharybdis",
        "commit": "093c9c5938ae1817f46e07043daa89057408016e",
        "licence": "Apache-2.0 (LICENSE)",
    },
    {
        "repo": "ohdsi-studies/OMOPCAN",
        "commit": "b202e577c478ffd1538408cb848c417cdd779a6e",
        "licence": "none stated",
    },
    {
        "repo": "ohdsi-studies/Covid19SubjectsAesiIncidenceRate",
        "commit": "3f33eb722838d55dfe9e9ec8bd84d3e39aad41bd",
        "licence": "Apache-2.0 (DESCRIPTION)",
    },
    {
        "repo": "ohdsi-studies/Covid19VaccineAesiIncidenceRate",
        "commit": "0b4db9de4908b4ce5e5ac1f09dc9e09f453617ba",
        "licence": "Apache-2.0 (LICENSE)",
    },
    {
        "repo": "ohdsi-studies/HERACharacterization",
        "commit": "68f7268ae11431a713b69e5f68203535994e5171",
        "licence": "Apache-2.0 (LICENSE)",
    },
    {
        "repo": "ohdsi-studies/MyositisNetworkStudy",
        "commit": "4ed8b0a718338afaffac2c95b5d9ab5494f1bc59",
        "licence": "Apache-2.0 (DESCRIPTION)",
    },
    {
        "repo": "ohdsi-studies/Covid19EstimationIl6JakInhibitors",
        "commit": "d010dae8dce9e9530825599d24a00a0c08d6230a",
        "licence": "Apache-2.0 (DESCRIPTION)",
    },
    {
        "repo": "ohdsi-studies/PASC",
        "commit": "7f55160d4e234b77dce3822ebc784c350af712af",
        "licence": "Apache-2.0 (DESCRIPTION)",
    },
    {
        "repo": "ohdsi-studies/CauseSpecificMortality",
        "commit": "c29355c3f78caeebc1dfb67f7132367a5b3e899e",
        "licence": "Apache-2.0 (DESCRIPTION)",
    },
    {
        "repo": "ohdsi-studies/EhdenAlopecia",
        "commit": "e024e20caa47b958b7494903aab4cc278e8e5b86",
        "licence": "Apache-2.0 (DESCRIPTION)",
    },
    {
        "repo": "ohdsi-studies/IbdCharacterization",
        "commit": "8e75dbf83c02a580a27f8ddd192d3395f124f7ca",
        "licence": "Apache-2.0 (LICENSE)",
    },
    {
        "repo": "ohdsi-studies/PioneerWatchfulWaiting",
        "commit": "b87c0b1caf438659215e20af9a1ec824c286e85e",
        "licence": "Apache-2.0 (LICENSE)",
    },
    {
        "repo": "OHDSI/StudyProtocols",
        "commit": "8de0454c6be4c120ba97d7376907d651327573a4",
        "licence": "Apache-2.0 (each study package's DESCRIPTION)",
    },
)
# files the repository snapshots read here lack (their blobs too large to be kept)
OHDSI_STUDIES_SKIP = ("OMOPCAN/CohortDiagnostics/Cohorts/non_hodgkin.json",)
OHDSI_STUDIES_INPUT = {
    "id": "ohdsi_studies",
    "name": (
        "SNOMED CT disorders, findings, situations and events of the concept sets of OHDSI network"
        " study repositories (ohdsi-studies, OHDSI StudyProtocols)"
    ),
    "package": " ".join(
        f"https://github.com/{s['repo']}@{s['commit']} **/*.json" for s in OHDSI_STUDY_SOURCES
    ),
    "licence": (
        "repositories Apache-2.0 (ohdsi-studies/OMOPCAN: none stated); SNOMED CT is (c) and (R)"
        " SNOMED International, concept names as in the OHDSI standardized vocabularies"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/ohdsi-studies-snomed.tsv",
}
# OMOP concept class of a SNOMED concept -> its semantic tag (other classes are not read)
OMOP_CLASS_TAGS = {
    "Disorder": "disorder",
    "Clinical Finding": "finding",
    "Context-dependent": "situation",
    "Event": "event",
}
ECR_FILE = INPUTS / "ecr-rctc-snomed.tsv"
ECR_SOURCE = {
    "repo": "CDCgov/dibbs-query-connector",
    "commit": "a1498bfd92147fa381d588065754a3709fd355d3",
    "url": "https://github.com/CDCgov/dibbs-query-connector",
    "path": "src/app/tests/integration/fixtures/ersdFixtures.json",
    "licence": "CC0-1.0 (repository LICENSE.md)",
}
ECR_INPUT = {
    "id": "ecr",
    "name": (
        "SNOMED CT codes of the eCR Reportable Condition Trigger Codes value sets (eRSD, NLM VSAC)"
        " in the CDC DIBBs Query Connector fixtures"
    ),
    "package": f"{ECR_SOURCE['url']}@{ECR_SOURCE['commit']} {ECR_SOURCE['path']}",
    "licence": (
        "repository CC0-1.0; value sets from NLM VSAC (eRSD), SNOMED CT is (c) and (R) SNOMED"
        " International, distributed in the US under the UMLS licence"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/ecr-rctc-snomed.tsv",
}
FHIR_IG_FILE = INPUTS / "fhir-ig-snomed.tsv"
# SNOMED CT value sets of FHIR implementation guides and CDS content, each pinned: three npm
# packages of the FHIR specification's expansions (the value sets of R4X_VALUESETS, whose
# definition is `is-a 404684003 |Clinical finding|`), mCODE's cancer disorder value sets, the
# IPS free set of problems and the CDC opioid CDS condition value sets. Their displays are
# preferred terms (mostly without semantic tag): every value set read is one of findings,
# disorders, situations or events, and the same definitions decide.
FHIR_IG_SOURCES: tuple[dict[str, Any], ...] = (
    {
        "id": "r5x",
        "npm": "hl7.fhir.r5.expansions",
        "version": "5.0.0",
        "integrity": (
            "sha512-rVuhkbzJewlfGNukCTEeRnpLpnng/z8/Vqh2MqFR7OnT4jq5gxb2Zdz4LWoKGuiLI0/D0+FxNpzux2iyKE/yTg=="
        ),
        "folder": "hl7.fhir.r5.expansions",
        "name": (
            "FHIR R5 value-set expansions (SNOMED CT International 20220731), clinical findings"
        ),
        "licence": "CC0-1.0 (package.json)",
    },
    {
        "id": "r4bx",
        "npm": "hl7.fhir.r4b.expansions",
        "version": "4.3.0",
        "integrity": (
            "sha512-MXifSAOOXanQ4mn3B7wG8xhmoDYAwfnb6SnaM6aAvx4Bk9YoGF4AIFrf1xyT7JVCBAsr6JE5yj14RVw+oVyV7w=="
        ),
        "folder": "hl7.fhir.r4b.expansions",
        "name": (
            "FHIR R4B value-set expansions (SNOMED CT International 20200731), clinical findings"
        ),
        "licence": "CC0-1.0 (package.json)",
    },
    {
        "id": "r3x",
        "npm": "hl7.fhir.r3.expansions",
        "version": "3.0.2",
        "integrity": (
            "sha512-H7RujZnzt5mnHYKe8Pe/ivz1X7tm6rV80DqzoZaioJzp2IhmjlNWQYoC7zIeeX1wB4j0ODUGVnb+5SNzHcAJPw=="
        ),
        "folder": "hl7.fhir.r3.expansions",
        "name": (
            "FHIR STU3 value-set expansions (SNOMED CT International 20160731), clinical findings"
        ),
        "licence": "CC0-1.0 (package.json)",
    },
    {
        "id": "mcode",
        "repo": "HL7/fhir-mCODE-ig",
        "commit": "06a3e56cd0774b083a7044935da4de693668745f",
        "url": "https://github.com/HL7/fhir-mCODE-ig",
        "folder": "fhir-mCODE-ig",
        "glob": "input/pagecontent/ValueSet-mcode-*-disorder-vs-notes.md",
        "name": (
            "mCODE (HL7 minimal Common Oncology Data Elements) cancer disorder value-set"
            " expansions (SNOMED CT US Edition 20210901)"
        ),
        "licence": "CC0-1.0 (sushi-config.yaml license)",
    },
    {
        "id": "ips",
        "repo": "HL7/fhir-ips",
        "commit": "57c3299fe9759f9be7c7b6976ce61f57ef9a7bd1",
        "url": "https://github.com/HL7/fhir-ips",
        "folder": "fhir-ips",
        "glob": "input/fsh/valuesets/ProblemsSnomedCtIpsFreeSet.fsh",
        "name": (
            "Problems of the SNOMED CT IPS Free Set (SNOMED International IPS Terminology,"
            " 20220731) as expanded in the HL7 IPS implementation guide"
        ),
        "licence": (
            "IPS Terminology CC BY 4.0 (the value set's copyright); guide CC0-1.0"
            " (sushi-config.yaml license)"
        ),
    },
    {
        "id": "opioid",
        "repo": "cqframework/opioid-cds-r4",
        "commit": "b29bdcbf6db6f3de26486dbc3820572ee9a78b89",
        "url": "https://github.com/cqframework/opioid-cds-r4",
        "folder": "opioid-cds-r4",
        "glob": "input/vocabulary/valueset/*.json",
        # the condition value sets (the others list procedures, drugs and tests)
        "only": (
            "conditions-documenting-sleep-disordered-breathing",
            "conditions-documenting-substance-misuse",
            "conditions-likely-terminal-for-opioid-prescribing",
            "hospice-finding",
            "limited-life-expectancy-conditions",
            "opioid-misuse-disorders",
            "sickle-cell-diseases",
        ),
        "name": "CDC Opioid Prescribing Guideline CDS (R4) condition value sets",
        "licence": "CC0-1.0 (LICENSE.md)",
    },
    {
        "id": "rckms",
        "repo": "cqframework/cqf-tooling",
        "commit": "e50dc91337df6aee2bf75665cc0f3c0504cc57b2",
        "url": "https://github.com/cqframework/cqf-tooling",
        "folder": "cqf-tooling",
        "glob": "tooling/src/test/resources/casereporting/tes/valueset-rckms-condition-codes.json",
        # the file's ValueSet is named "example": named here after the file
        "vs_id": "valueset-rckms-condition-codes",
        "title": "RCKMS reportable condition codes (eCR Terminology Exchange Service)",
        "name": (
            "RCKMS reportable condition codes (SNOMED CT 2025-03) of cqf-tooling's eCR"
            " Terminology Exchange Service (TES) resources"
        ),
        "licence": "Apache-2.0 (repository LICENSE)",
    },
)
FHIR_IG_INPUT = {
    "id": "fhirig",
    "name": "SNOMED CT codes of FHIR implementation guide and CDS value sets (see sources)",
    "package": " ".join(
        f"npm {s['npm']}@{s['version']}" if "npm" in s else f"{s['url']}@{s['commit']} {s['glob']}"
        for s in FHIR_IG_SOURCES
    ),
    "licence": (
        "each source as recorded in the extract (CC0-1.0; the IPS Terminology CC BY 4.0);"
        " SNOMED CT is (c) and (R) SNOMED International"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/fhir-ig-snomed.tsv",
}
MORPH_INPUT = {
    "id": "morph",
    "name": (
        "SNOMED CT morphologic abnormalities of the FHIR R5 and R4B expansions of"
        " ValueSet/bodystructure-code (SNOMED CT International 20220731 and 20200731)"
    ),
    "package": " ".join(
        f"npm {s['npm']}@{s['version']} package/ValueSet-bodystructure-code.json"
        for s in FHIR_IG_SOURCES
        if s["id"] in MORPH_SOURCES
    ),
    "licence": (
        "FHIR specification CC0-1.0; SNOMED CT is (c) and (R) SNOMED International, published"
        " in the HL7 FHIR specification"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/fhir-morphology-snomed.tsv",
}
UK_FILE = INPUTS / "opensafely-codelists-snomed.tsv"
# OpenSAFELY study repositories whose codelists/ folder holds OpenCodelists downloads (SNOMED CT
# UK Edition codelists with their preferred terms, NHS Digital primary care domain reference
# sets among them), in this order: a code's display is the one of the first file that lists it
UK_SOURCES = (
    ("opensafely/disease_incidence", "fc298800a6f934bf33474f9fc00156dc84b4cbd7", "MIT"),
    ("opensafely/inflammatory_rheum", "44415518f18ba3b8b7190cb47647af6e44c41a0d", "MIT"),
    ("opensafely/RA_outcomes", "1b1169c2e0b5d8ffc26beb2e1e6f156bf57feee7", "MIT"),
    ("opensafely/post-covid-vaccinated", "145aa57cd9b098fc325fff1c5d6a64078eaf07ac", "MIT"),
    ("opensafely/post-covid-outcomes-research", "f3b58c7167659873c74fbc4694bbb542682711e2", "MIT"),
    ("opensafely/post-covid-respiratory", "75be372865067df91be46874574d713336fc6deb", "MIT"),
    ("opensafely/post-covid-kidney-outcomes", "1dbc7136f0f6eb06b1e0338d01abd1284e9beb06", "none"),
    ("opensafely/mainroute_cancer", "750f9804609c613eff525a31b356582960078508", "MIT"),
    ("opensafely/uom_pregnancy_tx_pathways", "f14231ab2c2062bf9870049218a4052fe5b4d2b7", "MIT"),
    ("opensafely/amr-uom-brit", "59ef7ca778d4971d98d7c1f39f6ac3269f8b3645", "MIT"),
    ("opensafely/hiv-research", "380915bf5dbf4e46f2f9616d7e86211d06423b69", "MIT"),
    ("opensafely/vte-diagnoses-and-deaths", "67bee1ad3220ecd26369498ced8d1d55f3732a2c", "MIT"),
    ("opensafely/PostOpCovid", "3f559abb1c7d4629096608508b10c3ac29f0c3e3", "MIT"),
    ("opensafely/mab-av-non-users", "91dd52cba97f61a833004fed33f5427f5304c77c", "MIT"),
    ("opensafely/disparities-comparison", "ee933882688e19c7d06ac777212f400aa61f6ed7", "MIT"),
    ("opensafely/hdruk-os-covid-paeds", "19e52d891545a4cf1d4db7bea8788e0e89862d98", "MIT"),
)
# of these repositories, only the codelists whose file name matches are read (the others hold
# whole SNOMED CT hierarchies of organ systems the concepts do not touch)
UK_ONLY = {
    "opensafely/hdruk-os-covid-paeds": re.compile(
        r"infectious-disease-all-descendants|complication-of-pregnancy"
        r"|disorder-of-digestive-system-all|disorder-of-cardiovascular-system-all"
    ),
}
# codelists of medicines, test results and demographics (file names) are not read
UK_SKIP = re.compile(
    r"dmd|drug|medication|prednisolone|dmard|hydroxychloroquine|methotrexate|nsaid|opioid"
    r"|insulin|test|value|level|ethnicity|eth2001|antibiotic|vaccination"
)
# the namespace of the UK Drug Extension (dm+d): its concept ids name medicinal products
UK_DRUG_NAMESPACE = "1000001"
UK_INPUT = {
    "id": "uk",
    "name": (
        "SNOMED CT UK Edition codes of the OpenCodelists codelists (OpenSAFELY; NHS Digital"
        " primary care domain reference sets among them) downloaded into OpenSAFELY study"
        " repositories"
    ),
    "package": " ".join(f"https://github.com/{r}@{c} codelists/*.csv" for r, c, _ in UK_SOURCES),
    "licence": (
        "repositories MIT (LICENSE; opensafely/post-covid-kidney-outcomes: none stated);"
        " SNOMED CT UK Edition is (c) and (R) SNOMED International and NHS England, terms as"
        " published on opencodelists.org"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/opensafely-codelists-snomed.tsv",
}
UK_MORE_FILE = INPUTS / "opensafely-more-snomed.tsv"
# More OpenSAFELY study repositories; of each, only the diagnosis codelists that the pattern
# names are read (their other lists hold procedures, symptoms, test results and medicines)
UK_MORE_SOURCES = (
    (
        "opensafely/COVID-19_vacci_and_MACE_after_hip_fracture",
        "bb5e2b673a060c341f31cee75abba4fde0658a41",
        "MIT",
    ),
    ("opensafely/surg-covid-safely", "1cad9fb3db9732a8483f1f3b2a57980b5504f31f", "MIT"),
    (
        "opensafely/comparative-booster-spring2023",
        "decf6c3cda5a704615091ac4874377bc202d83fa",
        "MIT",
    ),
    ("opensafely/udca_covid", "44925aa9c8f140e8464a13196c5b92fb44fcd8cd", "MIT"),
    ("opensafely/metformin_covid", "60428f963c92235264586b251f683562597a215f", "MIT"),
    ("opensafely/post-covid-gastrointestinal", "3d64b93350ed06937615d8be6769366204ba890a", "MIT"),
    ("opensafely/winter-pressures-phase-II", "4d95049d8d6058f9a79458520393edd8ebf43345", "MIT"),
    ("opensafely/strepa_scarlet", "233a96cc2ae3dd4963867ec1cc967bc7aa83f783", "MIT"),
    ("opensafely/FLUCATS", "b4499eae1b0a2139469bae970d9ed83c8550b627", "MIT"),
    (
        "opensafely/WinterPressuresDescriptive",
        "53f036396bfb695eff2e6ddf198019c52464b92f",
        "MIT",
    ),
)
UK_MORE_ONLY = {
    "opensafely/COVID-19_vacci_and_MACE_after_hip_fracture": re.compile(
        r"^bristol-multimorbidity_(cancer|diabetes|heart-failure|copd|chronic-kidney-disease"
        r"|coronary-heart-disease)\.csv$|^nhsd-primary-care-domain-refsets-(hyp|strk|ast)_cod\.csv$"
    ),
    "opensafely/surg-covid-safely": re.compile(
        r"^user-alwynkotze-(mace-snomed|postop-pulmonary-complications-covidsurg"
        r"|covidsurg-replication-tia-stroke)\.csv$|^user-ciaranmci-cancer-snomed-ct\.csv$"
    ),
    "opensafely/comparative-booster-spring2023": re.compile(
        r"^primis-covid19-vacc-uptake-preg\.csv$"
    ),
    "opensafely/udca_covid": re.compile(
        r"^opensafely-condition-advanced-decompensated-cirrhosis-of-the-liver\.csv$"
    ),
    "opensafely/metformin_covid": re.compile(
        r"^user-alainamstutz-diabetes-complications-bristol\.csv$"
    ),
    "opensafely/post-covid-gastrointestinal": re.compile(
        r"^bristol-(hypertriglyceridemia|cirrhosis)-snomed\.csv$"
    ),
    "opensafely/winter-pressures-phase-II": re.compile(
        r"^nhsd-primary-care-domain-refsets-crdatrisk1_cod\.csv$"
    ),
    "opensafely/strepa_scarlet": re.compile(r"^opensafely-invasive-group-a-strep\.csv$"),
    # the 2020 OpenCodelists lists (columns id,name,active,notes), with the inactive UK
    # concepts that older records still carry ("Essential hypertension NOS", "Extrinsic
    # asthma NOS")
    "opensafely/FLUCATS": re.compile(r"^opensafely-hypertension-snomed\.csv$"),
    "opensafely/WinterPressuresDescriptive": re.compile(
        r"^opensafely-asthma-diagnosis-snomed\.csv$"
    ),
}
# semantic tags of the 2020 lists' names (id,name) that never name a condition: those rows
# are not read; the other tags are cut off (the input's terms carry none)
OLD_LIST_SKIPPED_TAGS = frozenset(
    {
        "procedure",
        "regime/therapy",
        "assessment scale",
        "qualifier value",
        "record artifact",
        "administrative concept",
        "observable entity",
        "context-dependent category",
        "morphologic abnormality",
        "event",
    }
)
UK_MORE_INPUT = {
    "id": "uk_more",
    "name": (
        "SNOMED CT UK Edition codes of more OpenCodelists diagnosis codelists (OpenSAFELY, NHS"
        " Digital primary care domain reference sets, PRIMIS, University of Bristol) downloaded"
        " into OpenSAFELY study repositories"
    ),
    "package": " ".join(
        f"https://github.com/{r}@{c} codelists/*.csv" for r, c, _ in UK_MORE_SOURCES
    ),
    "licence": (
        "repositories MIT (LICENSE); SNOMED CT UK Edition is (c) and (R) SNOMED International and"
        " NHS England, terms as published on opencodelists.org"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/opensafely-more-snomed.tsv",
}
UK_HIERARCHY_FILE = INPUTS / "opensafely-hierarchies-snomed.tsv"
# the "all descendants" codelists of whole SNOMED CT UK Edition hierarchies in this repository
# (OpenCodelists user/kate-mansfield/*-all-descendants), other than those UK_ONLY gives the
# UK input
UK_HIERARCHY_SOURCE = UK_SOURCES[-1]
UK_HIERARCHY_ONLY = re.compile(
    rf"^(?!.*(?:{UK_ONLY[UK_HIERARCHY_SOURCE[0]].pattern}))"
    r"user-kate-mansfield-[a-z-]+-all-descendants\.csv$"
)
UK_HIERARCHY_INPUT = {
    "id": "uk_hier",
    "name": (
        "SNOMED CT UK Edition codes of the OpenCodelists 'all descendants' codelists of whole"
        " UK Edition hierarchies (neoplastic disease, the disorders of each organ system,"
        " metabolic disease, ...) in an OpenSAFELY study repository, codes no other input lists"
    ),
    "package": (
        f"https://github.com/{UK_HIERARCHY_SOURCE[0]}@{UK_HIERARCHY_SOURCE[1]}"
        " codelists/user-kate-mansfield-*-all-descendants.csv"
    ),
    "licence": (
        "repository MIT (LICENSE); SNOMED CT UK Edition is (c) and (R) SNOMED International and"
        " NHS England, terms as published on opencodelists.org"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/opensafely-hierarchies-snomed.tsv",
}
# Public code lists measured as held-out lists before they were inputs (docs/terminology.md),
# each read only for the codes that no other extract lists (so each code is read, and
# reviewed, once), in this order after the inputs above: a list with SNOMED CT terms before
# one with ontology labels.
BHF_FILE = INPUTS / "bhf-cvd-covid-uk-snomed.tsv"
# the BHF Data Science Centre's CVD-COVID-UK phenotype code lists (NHS England TRE): of each
# CSV (name, terminology, code, term, ...), the rows of terminology SNOMED; CCU002_01 writes
# each row as one quoted tuple, "(""name"",""terminology"",...,),". Rows "CTV3_SNOMEDmapped"
# (a CTV3 term beside the SNOMED CT code it was mapped to) are not read: their term is not a
# description of the code.
BHF_SOURCES = (
    {
        "repo": "BHFDSC/CCU002_01",
        "commit": "54666a2259a0e4073daeaef4a9925bee9031cc19",
        "path": "england/phenotypes/CCU002_01_phenotypes.csv",
        "licence": "Apache-2.0 (LICENSE)",
    },
    {
        "repo": "BHFDSC/CCU018_01",
        "commit": "95be08c1daa6a54aa8662cf6bfb47fddbe94b62f",
        "path": "england/phenotypes/CCU018_01_phenotypes.csv",
        "licence": "Apache-2.0 (LICENSE)",
    },
)
BHF_INPUT = {
    "id": "bhf",
    "name": (
        "SNOMED CT codes of the BHF Data Science Centre CVD-COVID-UK phenotype code lists"
        " (CCU002_01, CCU018_01), codes no other input lists"
    ),
    "package": " ".join(
        f"https://github.com/{s['repo']}@{s['commit']} {s['path']}" for s in BHF_SOURCES
    ),
    "licence": (
        "repositories Apache-2.0 (LICENSE); SNOMED CT UK Edition is (c) and (R) SNOMED"
        " International and NHS England, terms as in the lists"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/bhf-cvd-covid-uk-snomed.tsv",
}
AURUM_FILE = INPUTS / "pharmacoepi-aurum-snomed.tsv"
# the CPRD Aurum Charlson and Elixhauser code lists of the Pharmacoepi Data Collaborative
# (N. Launders, UCL, after Metcalf et al., BMC Med Res Methodol 2019;19:115): tab-separated,
# medcodeid, term, ..., snomedctconceptid, snomedctdescriptionid, ..., condition. A concept's
# term is that of a row whose medcodeid is the concept's SNOMED CT description (the
# description id), else the first row's (an EMIS or older description of the concept).
AURUM_SOURCE = {
    "repo": "Pharmacoepi-Data-Collaborative/home",
    "commit": "166fef4919139540ce6da830417e4be770210dbc",
    "paths": (
        "codelists/CPRD/healthconditions/multimorbidity/AurumCharlson.txt",
        "codelists/CPRD/healthconditions/multimorbidity/AurumElixhauser.txt",
    ),
    "licence": (
        "MIT (code) and CC BY 4.0 (LICENSE.md; codelists/README.md: free to reuse with"
        " acknowledgement: Naomi Launders, Division of Psychiatry, UCL)"
    ),
}
AURUM_INPUT = {
    "id": "aurum",
    "name": (
        "SNOMED CT codes of the CPRD Aurum Charlson and Elixhauser code lists of the"
        " Pharmacoepi Data Collaborative (N. Launders, UCL), codes no other input lists"
    ),
    "package": " ".join(
        f"https://github.com/{AURUM_SOURCE['repo']}@{AURUM_SOURCE['commit']} {p}"
        for p in AURUM_SOURCE["paths"]
    ),
    "licence": (
        "MIT / CC BY 4.0 (Pharmacoepi Data Collaborative, code lists by Naomi Launders, UCL);"
        " SNOMED CT UK Edition is (c) and (R) SNOMED International and NHS England, terms as"
        " in CPRD Aurum"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/pharmacoepi-aurum-snomed.tsv",
}
MONDO_FILE = INPUTS / "mondo-snomed.tsv"
# the Mondo Disease Ontology's exactMatch mappings to SNOMED CT (SSSOM): each mapped code with
# Mondo's label of the disease it exactly matches (Mondo publishes no SNOMED CT term), read
# as an untagged term; a code mapped from several Mondo diseases keeps the first label
MONDO_SOURCE = {
    "repo": "monarch-initiative/mondo",
    "commit": "fad2512b4845f483fc1268cdf0bf7a8ef43697cb",
    "path": "src/ontology/mappings/mondo_exactmatch_sctid.sssom.tsv",
    "licence": "CC0-1.0 (the mapping set's license); repository CC BY 4.0 (LICENSE)",
}
MONDO_INPUT = {
    "id": "mondo",
    "name": (
        "SNOMED CT codes of the Mondo Disease Ontology exactMatch mappings, with Mondo's label,"
        " codes no other input lists"
    ),
    "package": "https://github.com/{repo}@{commit} {path}".format(**MONDO_SOURCE),
    "licence": (
        "mappings CC0-1.0, Mondo CC BY 4.0 (Monarch Initiative); SNOMED CT is (c) and (R)"
        " SNOMED International"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/mondo-snomed.tsv",
}
ICDO3_FILE = INPUTS / "ohdsi-icdo3-morphology-snomed.tsv"
# the OHDSI Standardized Vocabularies' map of ICD-O-3 morphologies to SNOMED CT: every row's
# target is a SNOMED CT morphologic abnormality, named as in the vocabularies (the fully
# specified name without its semantic tag); the map was removed from the repository in March
# 2021 ("Moved sources to Google Drive"), the last version is pinned
ICDO3_SOURCE = {
    "repo": "OHDSI/Vocabulary-v5.0",
    "commit": "7da15e0815fd6c1d8b3de0858f2749c0a657a3c1",
    "path": "ICDO3/sources/morphology_mapped.csv",
    "licence": "The Unlicense (public domain; repository LICENSE)",
}
ICDO3_INPUT = {
    "id": "icdo3_morph",
    "name": (
        "SNOMED CT morphologic abnormalities that the OHDSI Standardized Vocabularies map ICD-O-3"
        " morphologies to, codes no other input lists"
    ),
    "package": "https://github.com/{repo}@{commit} {path}".format(**ICDO3_SOURCE),
    "licence": (
        "The Unlicense (OHDSI Vocabulary-v5.0); SNOMED CT is (c) and (R) SNOMED International,"
        " names as in the OHDSI Standardized Vocabularies"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/ohdsi-icdo3-morphology-snomed.tsv",
}
CVD_CANCER_FILE = INPUTS / "cprd-cvd-cancer-snomed.tsv"
# the CPRD Aurum code lists of a study of cardiovascular disease in patients with cancer (A.
# Alshahrani, 2025-2026; SNOMED CT UK Edition concept ids with CPRD Aurum terms, a 2025 release
# of the CPRD Aurum dictionary): the diagnosis lists of CVD_CANCER_SOURCE["folder"], not the
# treatment and procedure lists (chemotherapy, radiotherapy, coronary intervention...) nor the
# measurements and demographics; a code keeps the term of the first row that lists it
CVD_CANCER_SOURCE = {
    "repo": "Ali-Alshahrani/code_lists",
    "commit": "7518403733a107e5d27656ef34fb62020f90821d",
    "folder": "primarycare_codes/medical_codes/CPRD_Aurum",
    "skip": re.compile(
        r"chemotherapy|immunotherapy|radiotherapy|stemcell|surgical|coronaryinterv|alcohol|bmi_"
        r"|ethnicity|hysterectomy|sev_mental"
    ),
    "licence": "CC BY 4.0 (LICENSE)",
}
CVD_CANCER_INPUT = {
    "id": "cprd_cvd_cancer",
    "name": (
        "SNOMED CT codes of the CPRD Aurum diagnosis code lists of a study of cardiovascular"
        " disease in patients with cancer (A. Alshahrani), codes no other input lists"
    ),
    "package": (
        f"https://github.com/{CVD_CANCER_SOURCE['repo']}@{CVD_CANCER_SOURCE['commit']}"
        f" {CVD_CANCER_SOURCE['folder']}/*/*.txt"
    ),
    "licence": (
        "CC BY 4.0 (Ali Alshahrani, code_lists); SNOMED CT UK Edition is (c) and (R) SNOMED"
        " International and NHS England, terms as in CPRD Aurum"
    ),
    "extract": "cds_service/knowledge/expansion/inputs/cprd-cvd-cancer-snomed.tsv",
}
CM_INPUT = {
    "id": "cm",
    "name": "ICD-10-CM FY2026 tabular list (April 1, 2026), CDC/NCHS",
    "package": "PyPI simple-icd-10-cm 1.5.0, simple_icd_10_cm/data/icd10c-tabular-April-1-2026.xml",
    "licence": "ICD-10-CM: public domain (US government work); package MIT",
}


def _dihedral(j: int, k: int) -> int:
    """The product of the dihedral group D5 that Verhoeff's check digit is built on."""
    if j < 5:
        return (j + k) % 5 if k < 5 else 5 + (j + k) % 5
    return 5 + (j - k) % 5 if k < 5 else (j - k) % 5


_VERHOEFF_D = tuple(tuple(_dihedral(j, k) for k in range(10)) for j in range(10))
_VERHOEFF_P: list[tuple[int, ...]] = [tuple(range(10))]
for _ in range(7):
    _VERHOEFF_P.append(tuple((1, 5, 7, 6, 2, 8, 3, 0, 9, 4)[x] for x in _VERHOEFF_P[-1]))


def sctid_valid(code: str) -> bool:
    """Whether a SNOMED CT identifier's last digit is its Verhoeff check digit (SNOMED CT
    Technical Implementation Guide, 'Check-digit'): a code whose last digits a spreadsheet
    rounded away ('...119100' for '...119104') fails."""
    if not code.isdigit() or not 6 <= len(code) <= 18:
        return False
    c = 0
    for i, ch in enumerate(reversed(code)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_gps(path: Path = GPS_FILE) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, name = line.split("\t")
        rows.append((code, name))
    return rows


def read_ecqm(
    path: Path = ECQM_FILE,
) -> tuple[list[tuple[str, str, tuple[str, ...]]], dict[str, str]]:
    """The eCQM extract: (code, name, OIDs of the value sets that list it) and OID -> title."""
    rows: list[tuple[str, str, tuple[str, ...]]] = []
    number: dict[str, str] = {}
    titles: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# vs\t"):
            _, n, oid, title = line.split("\t")
            number[n] = oid
            titles[oid] = title
        elif line.strip() and not line.startswith("#"):
            code, name, sets = line.split("\t")
            rows.append((code, name, tuple(number[n] for n in sets.split(",") if n in number)))
    return rows, titles


def valueset_review(
    defs: Mapping[str, Definition],
    conditions: Mapping[str, Any],
    listed: Iterable[tuple[str, str, tuple[str, ...]]],
    titles: Mapping[str, str],
    taken: Mapping[str, str],
    implies: Mapping[str, frozenset[str]],
) -> list[list[str]]:
    """Codes that a value set named in the `valuesets` of a concept's definition lists but that
    none of the concepts naming that value set takes, each with the reason (an exclusion, the
    concept it is read as, or a name outside the definition)."""
    claims: dict[str, set[str]] = {}
    for concept in defs:
        for oid in conditions[concept]["definition"].get("valuesets", []):
            claims.setdefault(oid, set()).add(concept)
    out: list[list[str]] = []
    for code, name, oids in listed:
        sets = [oid for oid in oids if oid in claims]
        if not sets:
            continue
        wanted = set().union(*(claims[oid] for oid in sets))
        got = taken.get(code)
        parts = set(got.split("+")) if got else set()
        parts |= {c for p in parts for c in implies.get(p, ())}
        if wanted & parts:
            continue
        text, tag = fsn_parts(name)
        for concept in sorted(wanted):
            d = defs[concept]
            _, excluded = judge({concept: d}, text, tag, code)
            named = next((r for p, r in d.exclude if p.search(text)), None)
            if excluded:
                why = excluded[0][1]
            elif named is not None:
                why = named
            elif got:
                why = f"read as {got}"
            else:
                why = "the definition's names do not take it"
            oid = next(o for o in sets if concept in claims[o])
            out.append([concept, code, name, f"not taken: listed by {titles[oid]} ({oid}); {why}"])
    return out


def implied_closure(data: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    direct = {k: set(v) for k, v in data.get("_implies", {}).items() if k != "source"}
    out: dict[str, frozenset[str]] = {}
    for concept in direct:
        seen: set[str] = set()
        todo = list(direct[concept])
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo.extend(direct.get(c, ()))
        out[concept] = frozenset(seen)
    return out


def classify_gps(
    gps: Iterable[tuple[str, str]],
    defs: Mapping[str, Definition],
    implies: Mapping[str, frozenset[str]],
    cues: NotACondition,
) -> tuple[dict[str, tuple[str, str]], list[list[str]], list[list[str]]]:
    """GPS code -> (concept or combination, name); the review rows; the combinations. A name
    that records something else than the patient's condition (`cues`, scope "any": a role, a
    department, an audit...) is not taken; each definition that would have taken it has it in
    the review."""
    members: dict[str, tuple[str, str]] = {}
    review: list[list[str]] = []
    combined: list[list[str]] = []
    for code, name in gps:
        text, tag = fsn_parts(name)
        hits, excluded = judge(defs, text, tag, code)
        review += [[concept, code, name, "excluded: " + why] for concept, why in excluded]
        if not hits:
            continue
        not_one = cues.why(text, False)
        if not_one is not None:
            review += [[c, code, name, "excluded: " + not_one] for c in sorted(hits)]
            continue
        concept = resolve(hits, implies)
        if "+" in concept:
            combined.append([concept, code, name, "combined: counts as each of them"])
        members[code] = (concept, name)
    return members, review, combined


def classify_untagged(
    rows: Iterable[tuple[str, str]],
    defs: Mapping[str, Definition],
    implies: Mapping[str, frozenset[str]],
    cues: NotACondition,
) -> tuple[dict[str, tuple[str, str]], list[list[str]], list[list[str]]]:
    """As classify_gps, for preferred terms without a semantic tag, from lists that mix
    diagnoses with procedures and records about them. A trailing parenthetical is part of the
    term, not a tag: "Malignant neoplasm of colon (& NOS)" (a Read synonym) is read by its
    head, and an exclusion or look-alike anywhere in the whole term still rules a concept out.
    A term that names alternatives, "(Secondary cataract) or (diabetic cataract)", means a
    concept only if every alternative means it. A term UNTAGGED_MORPHOLOGY matches is a
    histology, read as a (morphologic abnormality). A term that records something else than the
    patient's condition (`cues`, both scopes: a role, a department, a review, a letter, a
    procedure, a test without a result...) is not taken; each definition that would have taken
    one of these has it in the review."""
    members: dict[str, tuple[str, str]] = {}
    review: list[list[str]] = []
    combined: list[list[str]] = []
    for code, name in rows:
        whole = " ".join(name.split()).casefold()
        tag = MORPHOLOGY_TAG if UNTAGGED_MORPHOLOGY.search(whole) else ""
        hits, excluded = judge_untagged(defs, whole, code, tag)
        review += [[concept, code, name, "excluded: " + why] for concept, why in excluded]
        if not hits:
            continue
        not_one = cues.why(whole, True, codelist=True)
        if not_one is not None:
            review += [[c, code, name, "excluded: " + not_one] for c in sorted(hits)]
            continue
        concept = resolve(hits, implies)
        if "+" in concept:
            combined.append([concept, code, name, "combined: counts as each of them"])
        members[code] = (concept, name)
    return members, review, combined


def classify_mixed(
    rows: Iterable[tuple[str, str]],
    defs: Mapping[str, Definition],
    implies: Mapping[str, frozenset[str]],
    cues: NotACondition,
) -> tuple[dict[str, tuple[str, str]], list[list[str]], list[list[str]]]:
    """For a list whose terms are fully specified names for some codes and preferred terms
    for others: a name ending in a semantic tag is read as classify_gps reads it, any other as
    classify_untagged does."""
    rows = list(rows)
    tagged = [(code, name) for code, name in rows if fsn_parts(name)[1]]
    plain = [(code, name) for code, name in rows if not fsn_parts(name)[1]]
    members, review, combined = classify_gps(tagged, defs, implies, cues)
    more, more_review, more_combined = classify_untagged(plain, defs, implies, cues)
    members.update(more)
    return members, review + more_review, combined + more_combined


# classify_gps, classify_untagged or classify_mixed: how an input's (code, name) rows are read
Classifier = Callable[
    [
        Iterable[tuple[str, str]],
        Mapping[str, Definition],
        Mapping[str, frozenset[str]],
        NotACondition,
    ],
    tuple[dict[str, tuple[str, str]], list[list[str]], list[list[str]]],
]


def icd10cm_codes() -> tuple[list[tuple[str, str]], str]:
    """Every code of the ICD-10-CM tabular list (chapters and blocks left out), and the sha256
    of the package's data file."""
    import importlib.resources
    import warnings

    with warnings.catch_warnings():  # the package reads its data with a deprecated API
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

        cm.get_all_codes(True)  # loads the tabular list

    data = importlib.resources.files("simple_icd_10_cm") / "data"
    xml = next(p for p in data.iterdir() if p.name.startswith("icd10c-tabular"))
    digest = hashlib.sha256(xml.read_bytes()).hexdigest()
    rows = [
        (c, cm.get_description(c)) for c in cm.get_all_codes(True) if not cm.is_chapter_or_block(c)
    ]
    return rows, digest


def build(conditions: Mapping[str, Any], concepts: Mapping[str, Any]) -> dict[str, Any]:
    from cds_service.knowledge.loader import build_condition_index

    defs = load_definitions(conditions)
    cues = load_not_a_condition(conditions)
    implies = implied_closure(conditions)
    gps = read_gps()
    members, review, combined = classify_gps(gps, defs, implies, cues)
    review += combined
    origin = dict.fromkeys(members, "gps")
    gps_codes = {code for code, _ in gps}
    r4x = [(code, name) for code, name in read_gps(R4X_FILE) if code not in gps_codes]
    r4x_members, r4x_review, r4x_combined = classify_gps(r4x, defs, implies, cues)
    review += r4x_review + r4x_combined
    members.update(r4x_members)
    origin.update(dict.fromkeys(r4x_members, "r4x"))
    ecqm_rows, titles = read_ecqm()
    known = gps_codes | {code for code, _ in r4x}
    ecqm = [(code, name) for code, name, _ in ecqm_rows if code not in known]
    ecqm_members, ecqm_review, ecqm_combined = classify_gps(ecqm, defs, implies, cues)
    review += ecqm_review + ecqm_combined
    members.update(ecqm_members)
    origin.update(dict.fromkeys(ecqm_members, "ecqm"))
    known |= {code for code, _, _ in ecqm_rows}
    listings = [(ecqm_rows, titles)]

    def take(
        path: Path, source: str, classify: Classifier = classify_gps, listed: bool = True
    ) -> None:
        """Classify the codes of the input at `path` that no earlier input listed; what a
        definition takes is a member from `source`, the rest goes to the review. A `listed`
        input's value sets are also read for the members of the definitions that name them."""
        nonlocal known, review
        rows, set_titles = read_ecqm(path)
        if listed:
            listings.append((rows, set_titles))
        fresh = [(code, name) for code, name, _ in rows if code not in known]
        known |= {code for code, _ in fresh}
        more, more_review, more_combined = classify(fresh, defs, implies, cues)
        review += more_review + more_combined
        members.update(more)
        origin.update(dict.fromkeys(more, source))

    take(OHDSI_FILE, "ohdsi")
    take(ECR_FILE, "ecr")
    # the FHIR IG input: each code's source is the first (in FHIR_IG_SOURCES order) that lists it
    rows, set_titles = read_ecqm(FHIR_IG_FILE)
    listings.append((rows, set_titles))
    rank = {s["id"]: i for i, s in enumerate(FHIR_IG_SOURCES)}
    first = {
        code: min((sid.split(":", 1)[0] for sid in sets), key=rank.__getitem__)
        for code, _, sets in rows
        if sets
    }
    fresh = [(code, name) for code, name, _ in rows if code not in known and code in first]
    known |= {code for code, _ in fresh}
    more, more_review, more_combined = classify_gps(fresh, defs, implies, cues)
    review += more_review + more_combined
    members.update(more)
    origin.update({code: first[code] for code in more})
    take(ECQM_MORE_FILE, "ecqm_more")
    # morphologic abnormalities outside the GPS (FHIR bodystructure-code expansions)
    take(MORPH_FILE, "morph", listed=False)
    # the UK codelists: their terms carry no semantic tag (classify_untagged)
    take(UK_FILE, "uk", classify_untagged)
    # the OHDSI network studies' concept sets (tagged by OMOP concept class)
    take(OHDSI_STUDIES_FILE, "ohdsi_studies")
    # more UK codelists: untagged terms, as the UK input's
    take(UK_MORE_FILE, "uk_more", classify_untagged)
    # whole UK Edition hierarchies: untagged terms, only codes no other input lists
    take(UK_HIERARCHY_FILE, "uk_hier", classify_untagged, listed=False)
    # held-out lists turned inputs, each only with codes no other input lists
    take(BHF_FILE, "bhf", classify_mixed, listed=False)
    take(AURUM_FILE, "aurum", classify_untagged, listed=False)
    take(MONDO_FILE, "mondo", classify_untagged, listed=False)
    # ICD-O-3 histologies: each a (morphologic abnormality), read by the definitions that read
    # morphologies (a malignant histology is that malignancy; benign, in situ and uncertain
    # behaviour are excluded as for the GPS's morphologies)
    take(ICDO3_FILE, "icdo3_morph", listed=False)
    # CPRD Aurum diagnosis lists (2025-2026): untagged terms, only codes no other input lists
    take(CVD_CANCER_FILE, "cprd_cvd_cancer", classify_untagged, listed=False)
    index = build_condition_index(conditions, set(concepts.get("condition", {})))
    cm_rows, cm_digest = icd10cm_codes()
    out_concepts: dict[str, dict[str, Any]] = {}
    for concept in concepts.get("condition", {}):
        out_concepts[concept] = {"snomed_roots": [], "snomed": [], "icd10cm": []}
    for concept, d in defs.items():
        out_concepts[concept]["snomed_roots"] = [[r["code"], r["display"]] for r in d.roots]
    hand = {}
    for concept, table in conditions.items():
        if concept.startswith("_") or not isinstance(table, Mapping):
            continue
        for item in table.get("snomed", []):
            hand[str(item["code"])] = (concept, item.get("display", ""), item["source"])
    for code, (concept, name) in members.items():
        out_concepts.setdefault(concept, {"snomed_roots": [], "snomed": [], "icd10cm": []})
        prior = hand.get(code)
        if prior is not None and prior[0] != concept:
            raise SystemExit(
                f"SNOMED {code} {name}: the definitions give {concept}, conditions.toml lists"
                f" it under {prior[0]}"
            )
        out_concepts[concept]["snomed"].append([code, name, origin[code]])
    for code, (concept, display, source) in hand.items():
        if code not in members:
            out_concepts[concept]["snomed"].append([code, display, source])
    taken = {code: concept for code, (concept, _) in members.items()}
    taken.update({code: concept for code, (concept, _, _) in hand.items() if code not in taken})
    for rows, set_titles in listings:
        review += valueset_review(defs, conditions, rows, set_titles, taken, implies)
    for code, desc in cm_rows:
        concept = index.condition_concept("http://hl7.org/fhir/sid/icd-10-cm", code)
        if concept is not None:
            table = out_concepts.setdefault(
                concept, {"snomed_roots": [], "snomed": [], "icd10cm": []}
            )
            table["icd10cm"].append([code, desc, "cm"])
    for table in out_concepts.values():
        table["snomed"].sort(key=lambda r: int(r[0]) if r[0].isdigit() else 0)
    review.sort(key=lambda r: (r[0], r[1]))
    return {
        "format": 1,
        "generated_by": "python -m cds_service.knowledge.expansion.conditions",
        "inputs": [
            {**GPS_INPUT, "sha256": sha256_file(GPS_FILE)},
            {**R4X_INPUT, "sha256": sha256_file(R4X_FILE)},
            {**ECQM_INPUT, "sha256": sha256_file(ECQM_FILE)},
            {**OHDSI_INPUT, "sha256": sha256_file(OHDSI_FILE)},
            {**ECR_INPUT, "sha256": sha256_file(ECR_FILE)},
            {**FHIR_IG_INPUT, "sha256": sha256_file(FHIR_IG_FILE)},
            {**ECQM_MORE_INPUT, "sha256": sha256_file(ECQM_MORE_FILE)},
            {**MORPH_INPUT, "sha256": sha256_file(MORPH_FILE)},
            {**UK_INPUT, "sha256": sha256_file(UK_FILE)},
            {**OHDSI_STUDIES_INPUT, "sha256": sha256_file(OHDSI_STUDIES_FILE)},
            {**UK_MORE_INPUT, "sha256": sha256_file(UK_MORE_FILE)},
            {**UK_HIERARCHY_INPUT, "sha256": sha256_file(UK_HIERARCHY_FILE)},
            {**BHF_INPUT, "sha256": sha256_file(BHF_FILE)},
            {**AURUM_INPUT, "sha256": sha256_file(AURUM_FILE)},
            {**MONDO_INPUT, "sha256": sha256_file(MONDO_FILE)},
            {**ICDO3_INPUT, "sha256": sha256_file(ICDO3_FILE)},
            {**CVD_CANCER_INPUT, "sha256": sha256_file(CVD_CANCER_FILE)},
            {**CM_INPUT, "sha256": cm_digest},
        ],
        "sources": {
            "gps": GPS_INPUT["name"],
            "r4x": R4X_INPUT["name"],
            "ecqm": ECQM_INPUT["name"],
            "ohdsi": OHDSI_INPUT["name"],
            "ecr": ECR_INPUT["name"],
            **{source["id"]: source["name"] for source in FHIR_IG_SOURCES},
            "ecqm_more": ECQM_MORE_INPUT["name"],
            "morph": MORPH_INPUT["name"],
            "uk": UK_INPUT["name"],
            "ohdsi_studies": OHDSI_STUDIES_INPUT["name"],
            "uk_more": UK_MORE_INPUT["name"],
            "uk_hier": UK_HIERARCHY_INPUT["name"],
            "bhf": BHF_INPUT["name"],
            "aurum": AURUM_INPUT["name"],
            "mondo": MONDO_INPUT["name"],
            "icdo3_morph": ICDO3_INPUT["name"],
            "cprd_cvd_cancer": CVD_CANCER_INPUT["name"],
            "cm": CM_INPUT["name"],
        },
        "concepts": out_concepts,
        "review": review,
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """JSON with one code per line, so that a change of the expansion reads as a diff."""
    lines = ["{"]
    head = {k: v for k, v in doc.items() if k not in ("concepts", "review")}
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines.append('  "concepts": {')
    names = list(doc["concepts"])
    for i, concept in enumerate(names):
        table = doc["concepts"][concept]
        lines.append(f"    {json.dumps(concept)}: {{")
        keys = list(table)
        for j, key in enumerate(keys):
            rows = table[key]
            end = "," if j < len(keys) - 1 else ""
            if not rows:
                lines.append(f"      {json.dumps(key)}: []{end}")
                continue
            lines.append(f"      {json.dumps(key)}: [")
            for k, row in enumerate(rows):
                sep = "," if k < len(rows) - 1 else ""
                lines.append("        " + json.dumps(row, ensure_ascii=False) + sep)
            lines.append(f"      ]{end}")
        lines.append("    }" + ("," if i < len(names) - 1 else ""))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dumps_review(doc: Mapping[str, Any]) -> str:
    """The review rows (concept, code, name, decision: reason), one per line."""
    lines = ["{", f'  "generated_by": {json.dumps(doc["generated_by"])},', '  "review": [']
    for k, row in enumerate(doc["review"]):
        sep = "," if k < len(doc["review"]) - 1 else ""
        lines.append("    " + json.dumps(row, ensure_ascii=False) + sep)
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def generate_both() -> tuple[str, str]:
    """The text of the expansion file and of its review file."""
    conditions = tomllib.loads(CONDITIONS.read_text(encoding="utf-8"))
    concepts = tomllib.loads(CONCEPTS.read_text(encoding="utf-8"))
    doc = build(conditions, concepts)
    return dumps(doc), dumps_review(doc)


def generate() -> str:
    return generate_both()[0]


def refresh_gps(package_dir: Path) -> None:
    src = package_dir / "ValueSet-snomed-intl-gps.json"
    if not src.exists():
        src = package_dir / "package" / "ValueSet-snomed-intl-gps.json"
    vs = json.loads(src.read_text(encoding="utf-8"))
    concepts = vs["compose"]["include"][0]["concept"]
    head = [line for line in GPS_FILE.read_text(encoding="utf-8").splitlines() if line[:1] == "#"]
    head = [h for h in head if not h.startswith("# sha256 of that file")]
    head.insert(3, f"# sha256 of that file: {sha256_file(src)}")
    rows = [
        f"{c['code']}\t{c['display']}"
        for c in concepts
        if fsn_parts(c["display"])[1] in GPS_EXTRACT_TAGS
    ]
    GPS_FILE.write_text("\n".join(head + rows) + "\n", encoding="utf-8")


def refresh_r4x(package_dir: Path) -> None:
    src = package_dir / "Bundle-valueset-expansions.json"
    if not src.exists():
        src = package_dir / "package" / "Bundle-valueset-expansions.json"
    bundle = json.loads(src.read_text(encoding="utf-8"))
    gps = {code for code, _ in read_gps()}
    rows: dict[str, str] = {}
    for entry in bundle["entry"]:
        vs = entry["resource"]
        if vs.get("url") not in R4X_VALUESETS:
            continue
        for c in vs.get("expansion", {}).get("contains", []):
            if c.get("system") == "http://snomed.info/sct" and c["code"] not in gps:
                rows.setdefault(c["code"], c["display"])
    head = [
        "# SNOMED CT clinical findings of the FHIR R4 value-set expansions, outside the GPS",
        f"# from {R4X_INPUT['package']}",
        "# value sets: " + " ".join(R4X_VALUESETS),
        f"# sha256 of that file: {sha256_file(src)}",
        f"# licence: {R4X_INPUT['licence']}",
    ]
    body = [f"{code}\t{rows[code]}" for code in sorted(rows, key=int)]
    R4X_FILE.write_text("\n".join(head + body) + "\n", encoding="utf-8")


def refresh_morphology(folder: Path, out: Path = MORPH_FILE) -> None:
    """Re-extract the morphology input from the unpacked npm packages of MORPH_SOURCES (one
    sub-folder each, named by its `folder` in FHIR_IG_SOURCES): every SNOMED CT member of the
    expansion of ValueSet/bodystructure-code, with the fully specified name among its
    designations (a member whose designations carry none keeps its display, tagged
    "(morphologic abnormality)": the value set holds nothing else)."""
    names: dict[str, str] = {}
    sets: dict[str, dict[str, Any]] = {}
    head = [
        "# SNOMED CT morphologic abnormalities of the FHIR specification's expansions of"
        f" {MORPH_VALUESET} (is-a 49755003 |Morphologically abnormal structure|; each a limited"
        " expansion, its first 1000 members); display = the fully specified name",
    ]
    for source in FHIR_IG_SOURCES:
        if source["id"] not in MORPH_SOURCES:
            continue
        root = folder / source["folder"]
        package = root / "package" if (root / "package").is_dir() else root
        path = package / "ValueSet-bodystructure-code.json"
        vs = json.loads(path.read_text(encoding="utf-8-sig"))
        if vs.get("url") != MORPH_VALUESET:
            raise SystemExit(f"{path}: not {MORPH_VALUESET}")
        sid = f"{source['id']}:bodystructure-code"
        sets[sid] = {"title": vs.get("title") or vs.get("name"), "codes": set()}
        for c in vs.get("expansion", {}).get("contains", []) or []:
            code = str(c.get("code", ""))
            if "snomed.info/sct" not in c.get("system", "") or not code.isdigit():
                continue
            fsn = next(
                (
                    " ".join(d["value"].split())
                    for d in c.get("designation", []) or []
                    if fsn_parts(d.get("value", ""))[1] == MORPHOLOGY_TAG
                ),
                f"{' '.join(str(c.get('display', '')).split())} ({MORPHOLOGY_TAG})",
            )
            names.setdefault(code, fsn)
            sets[sid]["codes"].add(code)
        version = next(
            (
                p.get("valueUri")
                for p in vs["expansion"].get("parameter", [])
                if p["name"] == "version"
            ),
            "",
        )
        head.append(
            f"# {source['id']}: npm {source['npm']}@{source['version']} ({source['integrity']})"
            f" ({source['licence']}) package/{path.name}, sha256 {sha256_file(path)}, {version}"
        )
    head += [
        "# licence: FHIR specification CC0-1.0; SNOMED CT is (c) and (R) SNOMED International,"
        " published in the HL7 FHIR specification",
        "# columns: code<TAB>fully specified name<TAB>numbers of the value sets that list it;"
        " '# vs' lines: number<TAB><source>:<value set id><TAB>title",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-morphology"
        " <folder with the unpacked npm packages hl7.fhir.r5.expansions, hl7.fhir.r4b.expansions>",
    ]
    _write_listing(out, head, sets, names)


def _valuesets_in(folder: Path) -> Iterable[tuple[Path, dict[str, Any]]]:
    """Every FHIR ValueSet in the JSON files below a folder (single resources and Bundles)."""
    for path in sorted(folder.rglob("*.json")):
        if "valueset" not in str(path.relative_to(folder)).lower():
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(doc, dict):
            continue
        if doc.get("resourceType") == "ValueSet":
            yield path, doc
        elif doc.get("resourceType") == "Bundle":
            for entry in doc.get("entry", []):
                resource = entry.get("resource", {})
                if resource.get("resourceType") == "ValueSet":
                    yield path, resource


def _ecqm_sets(
    folder: Path, sources: Iterable[Mapping[str, Any]], skip: tuple[str, ...] = ()
) -> tuple[dict[str, str], dict[str, dict[str, Any]], int, str]:
    """The SNOMED CT disorders, findings, situations, events and morphologic abnormalities
    (GPS_EXTRACT_TAGS) of the ValueSets of checkouts of
    eCQM content repositories (one sub-folder per repository, named as the repository; files
    below a folder named in `skip`, or whose path below `folder` is in `skip`, are not read):
    code -> display (the first repository's),
    OID -> title and codes, the number of files read and the sha256 of their paths and
    contents."""
    names: dict[str, str] = {}
    sets: dict[str, dict[str, Any]] = {}
    digest = hashlib.sha256()
    files = 0
    for source in sources:
        root = folder / source["repo"].split("/")[1]
        seen: set[Path] = set()
        for path, vs in _valuesets_in(root):
            relative = path.relative_to(folder).as_posix()
            if relative in skip or any(p in skip for p in path.relative_to(root).parts[:-1]):
                continue
            if path not in seen:
                seen.add(path)
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
            oid = str(vs.get("url") or vs.get("id", "")).rsplit("/", 1)[-1]
            codes = [
                (c.get("code"), c.get("display", ""))
                for c in vs.get("expansion", {}).get("contains", []) or []
                if "snomed.info/sct" in (c.get("system") or "")
            ]
            for inc in vs.get("compose", {}).get("include", []) or []:
                if "snomed.info/sct" in (inc.get("system") or ""):
                    codes += [(c.get("code"), c.get("display", "")) for c in inc.get("concept", [])]
            codes = [(str(c), n) for c, n in codes if c and fsn_parts(n)[1] in GPS_EXTRACT_TAGS]
            if not codes:
                continue
            title = vs.get("title") or vs.get("name")
            entry = sets.setdefault(oid, {"title": title, "codes": set()})
            for code, name in codes:
                names.setdefault(code, " ".join(name.split()))
                entry["codes"].add(code)
        files += len(seen)
    return names, sets, files, digest.hexdigest()


def refresh_ecqm(folder: Path) -> None:
    """Re-extract the eCQM input from checkouts of ECQM_SOURCES, one sub-folder per repository
    named as the repository (folder/ecqm-content-cms-2025/...)."""
    names, sets, files, digest = _ecqm_sets(folder, ECQM_SOURCES)
    number = {oid: str(i) for i, oid in enumerate(sorted(sets), 1)}
    listed: dict[str, list[str]] = {}
    for oid in sorted(sets):
        for code in sets[oid]["codes"]:
            listed.setdefault(code, []).append(number[oid])
    head = [
        "# SNOMED CT disorders, findings, situations, events and morphologic abnormalities of"
        " eCQM value-set expansions (NLM VSAC) as published in the CQF eCQM content repositories",
        *(f"# from {s['url']} commit {s['commit']} ({s['licence']})" for s in ECQM_SOURCES),
        f"# {files} ValueSet files read; sha256 of their paths and contents: {digest}",
        f"# licence: {ECQM_INPUT['licence']}",
        "# columns: code<TAB>display (fully specified name)<TAB>numbers of the value sets that"
        " list it; '# vs' lines: number<TAB>OID<TAB>title",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-ecqm <folder"
        " with one checkout per repository>",
    ]
    vs_lines = [f"# vs\t{number[oid]}\t{oid}\t{sets[oid]['title']}" for oid in sorted(sets)]
    body = [f"{code}\t{names[code]}\t{','.join(listed[code])}" for code in sorted(listed, key=int)]
    ECQM_FILE.write_text("\n".join(head + vs_lines + body) + "\n", encoding="utf-8")


def refresh_ecqm_more(folder: Path, out: Path = ECQM_MORE_FILE) -> None:
    """Re-extract the input of more eCQM / dQM value sets from checkouts of ECQM_MORE_SOURCES
    (one sub-folder per repository, named as the repository); folders named in ECQM_MORE_SKIP
    are not read."""
    names, sets, files, digest = _ecqm_sets(folder, ECQM_MORE_SOURCES, skip=ECQM_MORE_SKIP)
    # only what the current eCQM input does not list (those codes are read and reviewed there)
    current = {code for code, _, _ in read_ecqm(ECQM_FILE)[0]}
    names = {code: name for code, name in names.items() if code not in current}
    sets = {
        oid: {"title": entry["title"], "codes": entry["codes"] & names.keys()}
        for oid, entry in sets.items()
        if entry["codes"] & names.keys()
    }
    head = [
        "# SNOMED CT disorders, findings, situations, events and morphologic abnormalities of"
        " more eCQM / dQM value-set expansions (NLM VSAC): CQF dQM content 2026, APHL chronic"
        " disease IG, eCQM content 2021-2023",
        *(f"# from {s['url']} commit {s['commit']} ({s['licence']})" for s in ECQM_MORE_SOURCES),
        f"# {files} ValueSet files read (left out: {', '.join(ECQM_MORE_SKIP)}); sha256 of their"
        f" paths and contents: {digest}",
        "# codes that inputs/ecqm-valuesets-snomed.tsv lists are left out (read and reviewed"
        " there)",
        f"# licence: {ECQM_MORE_INPUT['licence']}",
        "# columns: code<TAB>display (fully specified name)<TAB>numbers of the value sets that"
        " list it; '# vs' lines: number<TAB>OID<TAB>title",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions"
        " --refresh-ecqm-more <folder with one checkout per repository>",
    ]
    _write_listing(out, head, sets, names)


def _write_listing(
    path: Path,
    head: list[str],
    sets: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str],
) -> None:
    """An extract in the eCQM input's format: '# vs' lines (number, id, title), then code,
    display and the numbers of the sets that list it."""
    number = {sid: str(i) for i, sid in enumerate(sorted(sets), 1)}
    listed: dict[str, list[str]] = {code: [] for code in names}
    for sid in sorted(sets):
        for code in sets[sid]["codes"]:
            listed[code].append(number[sid])
    vs_lines = [f"# vs\t{number[sid]}\t{sid}\t{sets[sid]['title']}" for sid in sorted(sets)]
    body = [
        f"{code}\t{names[code]}\t{','.join(listed[code]) or '0'}" for code in sorted(names, key=int)
    ]
    path.write_text("\n".join(head + vs_lines + body) + "\n", encoding="utf-8")


def refresh_ohdsi(folder: Path) -> None:
    """Re-extract the OHDSI input from a checkout of OHDSI_SOURCE (folder/inst/cohorts/*.json).
    Every SNOMED CT item of a cohort's concept sets whose OMOP concept class is a disorder,
    finding, situation or event is a candidate (its name with the class as semantic tag); a set
    lists the items it includes (not those it excludes). A set is named by its name, so the
    sets of that name in several cohorts are one."""
    names: dict[str, str] = {}
    sets: dict[str, dict[str, Any]] = {}
    digest = hashlib.sha256()
    files = sorted((folder / "inst" / "cohorts").glob("*.json"))
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
        for cs in doc.get("ConceptSets", []) or []:
            title = " ".join(str(cs.get("name", "")).split())
            for item in (cs.get("expression") or {}).get("items", []) or []:
                c = item.get("concept") or {}
                tag = OMOP_CLASS_TAGS.get(c.get("CONCEPT_CLASS_ID", ""))
                code = str(c.get("CONCEPT_CODE", ""))
                if c.get("VOCABULARY_ID") != "SNOMED" or tag is None or not code.isdigit():
                    continue
                names.setdefault(code, f"{' '.join(str(c.get('CONCEPT_NAME')).split())} ({tag})")
                entry = sets.setdefault(f"ohdsi:{title}", {"title": title, "codes": set()})
                if not item.get("isExcluded"):
                    entry["codes"].add(code)
    head = [
        "# SNOMED CT disorders, findings, situations and events (OMOP concept class) of the concept"
        " sets of the OHDSI Phenotype Library cohort definitions",
        f"# from {OHDSI_SOURCE['url']} commit {OHDSI_SOURCE['commit']} {OHDSI_SOURCE['path']}"
        f" ({OHDSI_SOURCE['licence']})",
        f"# {len(files)} cohort files read; sha256 of their paths and contents:"
        f" {digest.hexdigest()}",
        f"# licence: {OHDSI_INPUT['licence']}",
        "# columns: code<TAB>concept name (OMOP concept class as semantic tag)<TAB>numbers of the"
        " concept sets that include it (0: only excluded by a set); '# vs' lines: number<TAB>id"
        "<TAB>concept set name",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-ohdsi"
        " <checkout>",
    ]
    _write_listing(OHDSI_FILE, head, sets, names)


def _atlas_concept_sets(doc: Any, stem: str) -> Iterable[tuple[str, list[Any]]]:
    """(name, items) of the concept sets of an ATLAS cohort definition (its ConceptSets) or of
    a stand-alone concept set expression ({"items": [...]}, named after its file)."""
    if not isinstance(doc, dict):
        return
    for cs in doc.get("ConceptSets", []) or []:
        if isinstance(cs, dict):
            items = (cs.get("expression") or {}).get("items", []) or []
            yield " ".join(str(cs.get("name", "")).split()), items
    expression = doc.get("expression") if isinstance(doc.get("expression"), dict) else doc
    if isinstance(expression.get("items"), list):
        yield " ".join(str(doc.get("name") or stem).split()), expression["items"]


def refresh_ohdsi_studies(folder: Path, out: Path = OHDSI_STUDIES_FILE) -> None:
    """Re-extract the OHDSI study input from checkouts of OHDSI_STUDY_SOURCES, one sub-folder
    per repository named as the repository: every SNOMED CT item whose OMOP concept class is a
    disorder, finding, situation or event of the concept sets of every JSON file (cohort
    definitions and concept set expressions). A set is named by repository and name; it lists
    the items it includes (not those it excludes)."""
    names: dict[str, str] = {}
    sets: dict[str, dict[str, Any]] = {}
    head = [
        "# SNOMED CT disorders, findings, situations and events (OMOP concept class) of the concept"
        " sets of OHDSI network study repositories (cohort definitions and concept set"
        " expressions, **/*.json)",
    ]
    for source in OHDSI_STUDY_SOURCES:
        root = folder / source["repo"].split("/")[1]
        digest = hashlib.sha256()
        files = 0
        for path in sorted(root.rglob("*.json")):
            if path.relative_to(folder).as_posix() in OHDSI_STUDIES_SKIP:
                continue
            try:
                doc = json.loads(path.read_text(encoding="utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            found = False
            for title, items in _atlas_concept_sets(doc, path.stem):
                for item in items:
                    c = item.get("concept") if isinstance(item, dict) else None
                    if not isinstance(c, dict):
                        continue
                    tag = OMOP_CLASS_TAGS.get(c.get("CONCEPT_CLASS_ID", ""))
                    code = str(c.get("CONCEPT_CODE", ""))
                    if c.get("VOCABULARY_ID") != "SNOMED" or tag is None or not code.isdigit():
                        continue
                    found = True
                    name = " ".join(str(c.get("CONCEPT_NAME")).split())
                    names.setdefault(code, f"{name} ({tag})")
                    sid = f"{source['repo'].split('/')[1]}:{title}"
                    entry = sets.setdefault(sid, {"title": title, "codes": set()})
                    if not item.get("isExcluded"):
                        entry["codes"].add(code)
            if found:
                files += 1
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        head.append(
            f"# from https://github.com/{source['repo']} commit {source['commit']}"
            f" ({source['licence']}); {files} files with SNOMED CT items read, sha256 of their"
            f" paths and contents: {digest.hexdigest()}"
        )
    head += [
        f"# left out (not in the snapshots read): {', '.join(OHDSI_STUDIES_SKIP)}",
        f"# licence: {OHDSI_STUDIES_INPUT['licence']}",
        "# columns: code<TAB>concept name (OMOP concept class as semantic tag)<TAB>numbers of the"
        " concept sets that include it (0: only excluded by a set); '# vs' lines: number<TAB>"
        "<repository>:<concept set name><TAB>concept set name",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions"
        " --refresh-ohdsi-studies <folder with one checkout per repository>",
    ]
    _write_listing(out, head, sets, names)


def refresh_ecr(folder: Path) -> None:
    """Re-extract the eCR input from a checkout of ECR_SOURCE: the SNOMED CT disorders,
    findings, situations and events that the expansion of each ValueSet of the bundle lists."""
    src = folder / ECR_SOURCE["path"]
    bundle = json.loads(src.read_text(encoding="utf-8-sig"))
    names: dict[str, str] = {}
    sets: dict[str, dict[str, Any]] = {}
    for entry in bundle.get("entry", []):
        vs = entry.get("resource", {})
        if vs.get("resourceType") != "ValueSet":
            continue
        shown = {
            str(c.get("code")): c.get("display", "")
            for inc in vs.get("compose", {}).get("include", []) or []
            for c in inc.get("concept", []) or []
        }
        codes = []
        for c in vs.get("expansion", {}).get("contains", []) or []:
            if "snomed.info/sct" in (c.get("system") or ""):
                code = str(c.get("code"))
                codes.append((code, c.get("display") or shown.get(code, "")))
        codes = [(c, n) for c, n in codes if c.isdigit() and fsn_parts(n)[1] in GPS_TAGS]
        if not codes:
            continue
        oid = str(vs.get("url") or vs.get("id", "")).rsplit("/", 1)[-1]
        entry_set = sets.setdefault(
            oid, {"title": vs.get("title") or vs.get("name"), "codes": set()}
        )
        for code, name in codes:
            names.setdefault(code, " ".join(name.split()))
            entry_set["codes"].add(code)
    head = [
        "# SNOMED CT disorders, findings, situations and events of the eCR Reportable Condition"
        " Trigger Codes value sets (eRSD, NLM VSAC) in the CDC DIBBs Query Connector fixtures",
        f"# from {ECR_SOURCE['url']} commit {ECR_SOURCE['commit']} {ECR_SOURCE['path']}"
        f" ({ECR_SOURCE['licence']})",
        f"# sha256 of that file: {sha256_file(src)}",
        f"# licence: {ECR_INPUT['licence']}",
        "# columns: code<TAB>display (fully specified name)<TAB>numbers of the value sets that"
        " list it; '# vs' lines: number<TAB>OID<TAB>title",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-ecr"
        " <checkout>",
    ]
    _write_listing(ECR_FILE, head, sets, names)


_FSH_INLINE = re.compile(
    r'expansion\.contains\[[^\]]*\] = (?P<system>\S+)#(?P<code>\S+) "(?P<display>(?:[^"\\]|\\.)*)"'
)
_FSH_FIELD = re.compile(
    r"expansion\.contains\[(?P<at>[^\]]*)\]\.(?P<field>system|code|display)"
    r' = "?#?(?P<value>(?:[^"\\]|\\.)*)"?$'
)
_FSH_TEXT = re.compile(r'^(?:\* )?\^?(?P<key>url|title|Title|Id|id) ?[:=] "?(?P<value>[^"]*)"?$')


def fsh_expansion(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """The url/title/id and the (system, code, display) of the expansion of a ValueSet written
    in FHIR Shorthand, either as `expansion.contains[+] = system#code "display"` or as one line
    per field (`^expansion.contains[=].code = #code`)."""
    meta: dict[str, str] = {}
    rows: list[tuple[str, str, str]] = []
    current: dict[str, str] = {}

    def close() -> None:
        if current.get("code"):
            rows.append((current.get("system", ""), current["code"], current.get("display", "")))

    for line in text.splitlines():
        line = line.strip()
        head = _FSH_TEXT.match(line)
        if head and head.group("key").lower() not in meta:
            meta[head.group("key").lower()] = head.group("value")
        m = _FSH_INLINE.search(line)
        if m:
            close()
            current = {}
            rows.append((m["system"], m["code"], m["display"].replace('\\"', '"')))
            continue
        f = _FSH_FIELD.search(line)
        if f:
            if f["at"] != "=":  # [+] or [n]: a new member
                close()
                current = {}
            current[f["field"]] = f["value"].replace('\\"', '"')
    close()
    return meta, rows


def refresh_fhir_ig(folder: Path, out: Path = FHIR_IG_FILE) -> None:
    """Re-extract the FHIR IG input from one sub-folder per source of FHIR_IG_SOURCES (named by
    its `folder`): the unpacked npm packages (folder/<package>/package/...) and the checkouts
    of the repositories at the pinned commits. Every SNOMED CT member of the expansion (or of
    the enumerated compose) of each value set read is a candidate, with its display."""
    names: dict[str, str] = {}
    sets: dict[str, dict[str, Any]] = {}
    head = [
        "# SNOMED CT codes of FHIR implementation guide and CDS value sets (findings, disorders,"
        " situations and events; displays as published, mostly preferred terms)",
    ]

    def add(sid: str, title: str, members: Iterable[tuple[str, str, str]]) -> None:
        for system, code, display in members:
            code = str(code)
            if "snomed.info/sct" not in system or not code.isdigit():
                continue
            names.setdefault(code, " ".join(display.split()))
            sets.setdefault(sid, {"title": " ".join(title.split()), "codes": set()})
            sets[sid]["codes"].add(code)

    for source in FHIR_IG_SOURCES:
        root = folder / source["folder"]
        digest = hashlib.sha256()
        paths: list[Path] = []
        if "npm" in source:
            package = root / "package" if (root / "package").is_dir() else root
            for path in sorted(package.glob("ValueSet-*.json")):
                vs = json.loads(path.read_text(encoding="utf-8-sig"))
                if vs.get("url") not in R4X_VALUESETS:
                    continue
                paths.append(path)
                members = [
                    (c.get("system", ""), c.get("code", ""), c.get("display", ""))
                    for c in vs.get("expansion", {}).get("contains", []) or []
                ]
                vs_id = str(vs["url"]).rsplit("/", 1)[-1]
                add(f"{source['id']}:{vs_id}", vs.get("title") or vs.get("name") or vs_id, members)
            where = f"npm {source['npm']}@{source['version']} ({source['integrity']})"
        else:
            for path in sorted(root.glob(source["glob"])):
                text = path.read_text(encoding="utf-8-sig")
                if path.suffix == ".json":
                    vs = json.loads(text)
                    vs_id = source.get("vs_id") or str(vs.get("id") or vs.get("url", ""))
                    vs_id = vs_id.rsplit("/", 1)[-1]
                    if source.get("only") and vs_id not in source["only"]:
                        continue
                    members = [
                        (c.get("system", ""), c.get("code", ""), c.get("display", ""))
                        for c in vs.get("expansion", {}).get("contains", []) or []
                    ]
                    for inc in vs.get("compose", {}).get("include", []) or []:
                        members += [
                            (inc.get("system", ""), c.get("code", ""), c.get("display", ""))
                            for c in inc.get("concept", []) or []
                        ]
                    title = source.get("title") or vs.get("title") or vs.get("name") or vs_id
                else:
                    meta, members = fsh_expansion(text)
                    vs_id = (meta.get("url") or meta.get("id", path.stem)).rsplit("/", 1)[-1]
                    title = meta.get("title") or vs_id
                paths.append(path)
                add(f"{source['id']}:{vs_id}", title, members)
            where = f"{source['url']} commit {source['commit']} {source['glob']}"
        for path in paths:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        head.append(
            f"# {source['id']}: {where} ({source['licence']}); {len(paths)} files read, sha256 of"
            f" their paths and contents: {digest.hexdigest()}"
        )
    head += [
        f"# licence: {FHIR_IG_INPUT['licence']}",
        "# columns: code<TAB>display<TAB>numbers of the value sets that list it; '# vs' lines:"
        " number<TAB><source>:<value set id><TAB>title",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-fhir-ig"
        " <folder with one sub-folder per source: the unpacked npm packages and the checkouts>",
    ]
    _write_listing(out, head, sets, names)


def _opencodelists_ids(codelists: Path) -> dict[str, str]:
    """File name -> OpenCodelists id without its version, from the folder's codelists.json
    (or, in older repositories, codelists.txt: one id per line, the file named after it)."""
    out: dict[str, str] = {}
    listing = codelists / "codelists.json"
    if listing.exists():
        for name, entry in json.loads(listing.read_text(encoding="utf-8"))["files"].items():
            out[name] = str(entry["id"]).rsplit("/", 1)[0]
    text = codelists / "codelists.txt"
    if text.exists():
        for line in text.read_text(encoding="utf-8").splitlines():
            parts = line.split("#")[0].strip().split("/")
            if len(parts) >= 3:
                out.setdefault("-".join(parts[:-1]) + ".csv", "/".join(parts[:-1]))
    return out


def refresh_opensafely(
    folder: Path,
    out: Path = UK_FILE,
    sources: tuple[tuple[str, str, str], ...] = UK_SOURCES,
    only: Mapping[str, re.Pattern[str]] = UK_ONLY,
    head_first: str = (
        "# SNOMED CT UK Edition codes (concept ids) of the OpenCodelists codelists downloaded"
        " into OpenSAFELY study repositories (codelists/*.csv, columns code,term)"
    ),
    licence: str = UK_INPUT["licence"],
    option: str = "--refresh-opensafely",
    drop_products: bool = False,
    leave_out: frozenset[str] = frozenset(),
    left_out: str = "",
    old_lists: bool = False,
) -> None:
    """Re-extract the UK input from checkouts of UK_SOURCES, one sub-folder per repository
    named as the repository (folder/disease_incidence/codelists/...): every SNOMED CT concept
    id (valid check digit, partition 00 or 10) of the `code,term` codelists in codelists/,
    except those of medicines, tests and demographics (UK_SKIP) and, where UK_ONLY names
    them, those of the files it lists; codes in `leave_out` (said in the head by `left_out`)
    are not extracted. A codelist is named by its OpenCodelists id without
    the version, so one list in several repositories is one set. With `old_lists`, the 2020
    lists (columns id,name) are read too: a name's semantic tag is cut off, and a row whose
    tag OLD_LIST_SKIPPED_TAGS names is not read."""
    import csv

    names: dict[str, str] = {}
    sets: dict[str, dict[str, Any]] = {}
    digest = hashlib.sha256()
    files = 0
    for repo, _, _ in sources:
        root = folder / repo.split("/")[1]
        ids = _opencodelists_ids(root / "codelists")
        wanted = only.get(repo)
        for path in sorted((root / "codelists").glob("*.csv")):
            if UK_SKIP.search(path.name) or (wanted is not None and not wanted.search(path.name)):
                continue
            text = path.read_text(encoding="utf-8-sig")
            rows = list(csv.reader(text.splitlines()))
            header = [h.strip().lower() for h in rows[0][:2]] if rows else []
            if old_lists and header == ["id", "name"]:
                rows = [rows[0], *(_old_list_row(r) for r in rows[1:] if len(r) >= 2)]
            elif header != ["code", "term"]:
                continue
            codes = [
                (r[0].strip(), " ".join(r[1].split()))
                for r in rows[1:]
                if len(r) >= 2
                and sctid_valid(r[0].strip())
                and r[0].strip()[-3:-1] in ("00", "10")
                and not (drop_products and r[0].strip()[-10:-3] == UK_DRUG_NAMESPACE)
                and r[0].strip() not in leave_out
                and r[1].strip()
            ]
            if not codes:
                continue
            files += 1
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
            ident = ids.get(path.name, path.stem)
            entry = sets.setdefault(f"opencodelists:{ident}", {"title": ident, "codes": set()})
            for code, name in codes:
                names.setdefault(code, name)
                entry["codes"].add(code)
    head = [
        head_first,
        *(
            f"# from https://github.com/{repo} commit {commit} (licence: {repo_licence})"
            + (f", files matching {only[repo].pattern!r}" if repo in only else "")
            for repo, commit, repo_licence in sources
        ),
        f"# {files} codelist files read; sha256 of their paths and contents: {digest.hexdigest()}",
        *(
            [
                f"# codes of the UK Drug Extension (namespace {UK_DRUG_NAMESPACE}: medicinal"
                " products) are not read"
            ]
            if drop_products
            else []
        ),
        *([f"# {left_out}"] if left_out else []),
        f"# licence: {licence}",
        "# columns: code<TAB>term (no semantic tag)<TAB>numbers of the codelists that list it;"
        " '# vs' lines: number<TAB>opencodelists:<codelist id without version><TAB>codelist id",
        f"# Regenerate: python -m cds_service.knowledge.expansion.conditions {option}"
        " <folder with one checkout per repository>",
    ]
    _write_listing(out, head, sets, names)


def _old_list_row(row: list[str]) -> list[str]:
    """A row of a 2020 OpenCodelists list (id, name with its semantic tag, ...) as [code, term]:
    the SNOMED CT semantic tag cut off (another parenthetical is part of the name), the term
    left empty (the row not read) when the tag never names a condition (OLD_LIST_SKIPPED_TAGS)."""
    name, tag = split_tag(" ".join(row[1].split()))
    return [row[0], "" if tag in OLD_LIST_SKIPPED_TAGS else name]


def refresh_opensafely_more(folder: Path, out: Path = UK_MORE_FILE) -> None:
    """Re-extract the input of more UK codelists from checkouts of UK_MORE_SOURCES, one
    sub-folder per repository named as the repository: as refresh_opensafely, reading only the
    files UK_MORE_ONLY names, without medicinal products."""
    refresh_opensafely(
        folder,
        out,
        sources=UK_MORE_SOURCES,
        only=UK_MORE_ONLY,
        head_first=(
            "# SNOMED CT UK Edition codes (concept ids) of more OpenCodelists diagnosis codelists"
            " downloaded into OpenSAFELY study repositories (codelists/*.csv, columns code,term)"
        ),
        licence=UK_MORE_INPUT["licence"],
        option="--refresh-opensafely-more",
        drop_products=True,
        old_lists=True,
    )


def codes_of_other_extracts(*own: Path) -> frozenset[str]:
    """The codes that the extracts of INPUTS other than `own` (the one being rebuilt, where it
    is written and where it is committed) list."""
    mine = {path.resolve() for path in own}
    return frozenset(
        line.split("\t", 1)[0]
        for path in INPUTS.glob("*.tsv")
        if path.resolve() not in mine
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )


def refresh_uk_hierarchies(folder: Path, out: Path = UK_HIERARCHY_FILE) -> None:
    """Re-extract the input of whole UK Edition hierarchies from a checkout of
    UK_HIERARCHY_SOURCE (folder/<repository name>/codelists/...): as refresh_opensafely, reading
    only the codelists UK_HIERARCHY_ONLY names, and only the codes that no other input extract
    (than this one's, committed or being rebuilt) lists: those are read, and reviewed, there."""
    listed = codes_of_other_extracts(out, UK_HIERARCHY_FILE)
    refresh_opensafely(
        folder,
        out,
        sources=(UK_HIERARCHY_SOURCE,),
        only={UK_HIERARCHY_SOURCE[0]: UK_HIERARCHY_ONLY},
        head_first=(
            "# SNOMED CT UK Edition codes (concept ids) of the OpenCodelists 'all descendants'"
            " codelists of whole UK Edition hierarchies downloaded into an OpenSAFELY study"
            " repository (codelists/*.csv, columns code,term)"
        ),
        licence=UK_HIERARCHY_INPUT["licence"],
        option="--refresh-uk-hierarchies",
        leave_out=frozenset(listed),
        left_out=(
            "codes that another extract of cds_service/knowledge/expansion/inputs lists are"
            " left out (read and reviewed there)"
        ),
    )


def _snomed_concept_id(code: str) -> bool:
    """A SNOMED CT concept id: valid check digit, partition 00 (International) or 10 (an
    extension's concept)."""
    return sctid_valid(code) and code[-3:-1] in ("00", "10")


def _only_new_listing(
    out: Path,
    own: Path,
    rows: Iterable[tuple[str, str, str]],
    head: list[str],
) -> None:
    """Write an extract of (set id, code, term) rows in the eCQM input's format, leaving out
    the codes another extract lists; a code keeps its first term."""
    listed = codes_of_other_extracts(out, own)
    names: dict[str, str] = {}
    sets: dict[str, dict[str, Any]] = {}
    for sid, code, term in rows:
        term = " ".join(term.split())
        if code in listed or not term or not _snomed_concept_id(code):
            continue
        names.setdefault(code, term)
        sets.setdefault(sid, {"title": sid.split(":", 1)[1], "codes": set()})["codes"].add(code)
    _write_listing(out, head, sets, names)


def bhf_rows(text: str) -> list[list[str]]:
    """The rows of a CVD-COVID-UK phenotype CSV, header first; CCU002_01 writes each row as
    one quoted tuple, '("name","terminology",...,),'."""
    import csv

    rows = [r for r in csv.reader(text.splitlines()) if r]
    if rows and rows[0] and rows[0][0].startswith("("):
        rows = [
            next(csv.reader([r[0][1:].removesuffix(",),").removesuffix(",)")]))
            for r in rows
            if r[0].startswith("(")
        ]
    return rows


def refresh_bhf(folder: Path, out: Path = BHF_FILE) -> None:
    """Re-extract the CVD-COVID-UK input from checkouts of BHF_SOURCES (folder/<repository
    name>/<path>): the SNOMED CT rows (terminology SNOMED) of each phenotype list whose term
    is not tagged as something other than a disorder, finding, situation, event or morphology
    (a procedure, an observable entity, a product...), only codes no other extract lists. A
    set is named by repository and phenotype."""
    rows: list[tuple[str, str, str]] = []
    head = [
        "# SNOMED CT codes of the BHF Data Science Centre CVD-COVID-UK phenotype code lists"
        " (terminology SNOMED; CTV3-mapped rows not read)",
    ]
    for source in BHF_SOURCES:
        repo = source["repo"].split("/")[1]
        path = folder / repo / source["path"]
        table = bhf_rows(path.read_text(encoding="utf-8-sig"))
        cols = {name.strip().lower(): i for i, name in enumerate(table[0])}
        for r in table[1:]:
            if r[cols["terminology"]].strip() != "SNOMED":
                continue
            code, term = r[cols["code"]].strip(), r[cols["term"]]
            tag = fsn_parts(" ".join(term.split()))[1]
            if tag and tag not in GPS_EXTRACT_TAGS:
                continue
            rows.append((f"{repo}:{r[cols['name']].strip()}", code, term))
        head.append(
            f"# from https://github.com/{source['repo']} commit {source['commit']}"
            f" {source['path']} ({source['licence']}), sha256 {sha256_file(path)}"
        )
    head += [
        "# codes that another extract of cds_service/knowledge/expansion/inputs lists are left"
        " out (read and reviewed there)",
        f"# licence: {BHF_INPUT['licence']}",
        "# columns: code<TAB>term as listed (a fully specified name or a preferred term)<TAB>"
        "numbers of the lists that hold it; '# vs' lines: number<TAB><repository>:<phenotype>"
        "<TAB>phenotype",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-bhf"
        " <folder with one checkout per repository>",
    ]
    _only_new_listing(out, BHF_FILE, rows, head)


def refresh_aurum(folder: Path, out: Path = AURUM_FILE) -> None:
    """Re-extract the CPRD Aurum input from a checkout of AURUM_SOURCE (folder/<repository
    name>/<path>): the SNOMED CT concept id of every row of the Charlson and Elixhauser lists
    (rows without one, "NA", are not read), with the term of a row whose medcodeid is the
    concept's description id, else of the first row; only codes no other extract lists. A set
    is named by list and condition group."""
    import csv

    rows: list[tuple[str, str, str]] = []
    preferred: dict[str, str] = {}
    head = [
        "# SNOMED CT concept ids of the CPRD Aurum Charlson and Elixhauser code lists of the"
        " Pharmacoepi Data Collaborative, with their CPRD Aurum terms",
    ]
    root = folder / AURUM_SOURCE["repo"].split("/")[1]
    for relative in AURUM_SOURCE["paths"]:
        path = root / relative
        text = path.read_text(encoding="utf-8-sig")
        for r in csv.DictReader(text.splitlines(), delimiter="\t"):
            code = (r.get("snomedctconceptid") or "").strip()
            term = r.get("term") or ""
            rows.append((f"{path.stem}:{(r.get('condition') or '').strip()}", code, term))
            if (r.get("medcodeid") or "").strip() == (r.get("snomedctdescriptionid") or "").strip():
                preferred.setdefault(code, term)
        head.append(
            f"# from https://github.com/{AURUM_SOURCE['repo']} commit {AURUM_SOURCE['commit']}"
            f" {relative}, sha256 {sha256_file(path)}"
        )
    head += [
        "# codes that another extract of cds_service/knowledge/expansion/inputs lists are left"
        " out (read and reviewed there)",
        f"# licence: {AURUM_INPUT['licence']}",
        "# columns: code<TAB>term (no semantic tag)<TAB>numbers of the condition groups that"
        " hold it; '# vs' lines: number<TAB><list>:<condition group><TAB>condition group",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-aurum"
        " <folder with the checkout, named as the repository>",
    ]
    rows = [(sid, code, preferred.get(code, term)) for sid, code, term in rows]
    _only_new_listing(out, AURUM_FILE, rows, head)


def refresh_mondo(folder: Path, out: Path = MONDO_FILE) -> None:
    """Re-extract the Mondo input from a checkout of MONDO_SOURCE (folder/<repository
    name>/<path>): the SNOMED CT code of every skos:exactMatch row of the SSSOM mapping set,
    with the label of the Mondo disease it matches; only codes no other extract lists."""
    import csv

    path = folder / MONDO_SOURCE["repo"].split("/")[1] / MONDO_SOURCE["path"]
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    rows = [
        ("mondo:exactMatch", r["object_id"].removeprefix("SCTID:"), r["subject_label"])
        for r in csv.DictReader(lines, delimiter="\t")
        if r.get("predicate_id") == "skos:exactMatch" and r["object_id"].startswith("SCTID:")
    ]
    head = [
        "# SNOMED CT codes of the Mondo Disease Ontology's exactMatch mappings (SSSOM), each with"
        " the label of the Mondo disease it matches",
        f"# from https://github.com/{MONDO_SOURCE['repo']} commit {MONDO_SOURCE['commit']}"
        f" {MONDO_SOURCE['path']} ({MONDO_SOURCE['licence']}), sha256 {sha256_file(path)}",
        "# codes that another extract of cds_service/knowledge/expansion/inputs lists are left"
        " out (read and reviewed there)",
        f"# licence: {MONDO_INPUT['licence']}",
        "# columns: code<TAB>Mondo label (no semantic tag)<TAB>1; '# vs' line: the mapping set",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-mondo"
        " <folder with the checkout, named as the repository>",
    ]
    _only_new_listing(out, MONDO_FILE, rows, head)


def refresh_icdo3(folder: Path, out: Path = ICDO3_FILE) -> None:
    """Re-extract the ICD-O-3 morphology input from a checkout of ICDO3_SOURCE (folder/<repository
    name>/<path>, at the pinned commit): the SNOMED CT code and name of every row's target, a
    morphologic abnormality (the tag is written, the vocabularies' names carry none); a code
    keeps its first name; only codes no other extract lists."""
    import csv

    path = folder / ICDO3_SOURCE["repo"].split("/")[1] / ICDO3_SOURCE["path"]
    text = path.read_text(encoding="utf-8")
    rows = [
        (
            "icdo3:morphology",
            r["snomed_code"].strip(),
            f"{r['snomed_name'].strip()} ({MORPHOLOGY_TAG})",
        )
        for r in csv.DictReader(text.splitlines(), delimiter="\t")
        if (r.get("snomed_code") or "").strip() and (r.get("snomed_name") or "").strip()
    ]
    head = [
        "# SNOMED CT morphologic abnormalities that the OHDSI Standardized Vocabularies map ICD-O-3"
        " morphologies to (each row's target, named as in the vocabularies: the fully specified"
        " name, its semantic tag written here)",
        f"# from https://github.com/{ICDO3_SOURCE['repo']} commit {ICDO3_SOURCE['commit']}"
        f" {ICDO3_SOURCE['path']} ({ICDO3_SOURCE['licence']}), sha256 {sha256_file(path)}",
        "# codes that another extract of cds_service/knowledge/expansion/inputs lists are left"
        " out (read and reviewed there)",
        f"# licence: {ICDO3_INPUT['licence']}",
        "# columns: code<TAB>name (morphologic abnormality)<TAB>1; '# vs' line: the map",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-icdo3"
        " <folder with the checkout, named as the repository>",
    ]
    _only_new_listing(out, ICDO3_FILE, rows, head)


def refresh_cvd_cancer(folder: Path, out: Path = CVD_CANCER_FILE) -> None:
    """Re-extract the CPRD Aurum input of a study of CVD in patients with cancer from a checkout
    of CVD_CANCER_SOURCE (folder/<repository name>/<folder>/<group>/<list>.txt): the SNOMED CT
    concept id of every row of the diagnosis lists (rows without one are not read), with the
    row's term (column desc or term); a code keeps its first term; only codes no other extract
    lists. A set is named by group and list."""
    import csv

    root = folder / CVD_CANCER_SOURCE["repo"].split("/")[1] / CVD_CANCER_SOURCE["folder"]
    paths = sorted(
        path for path in root.glob("*/*.txt") if not CVD_CANCER_SOURCE["skip"].search(path.name)
    )
    rows: list[tuple[str, str, str]] = []
    digest = hashlib.sha256()
    for path in paths:
        relative = path.relative_to(root).as_posix()
        data = path.read_bytes()
        digest.update(relative.encode() + b"\0" + data)
        for r in csv.DictReader(data.decode("utf-8-sig").splitlines(), delimiter="\t"):
            code = (r.get("snomedctconceptid") or "").strip()
            term = (r.get("desc") or r.get("term") or "").strip()
            rows.append((f"aurum:{relative.removesuffix('.txt')}", code, term))
    head = [
        "# SNOMED CT concept ids of the CPRD Aurum diagnosis code lists of a study of"
        " cardiovascular disease in patients with cancer (A. Alshahrani), with their CPRD Aurum"
        " terms",
        f"# from https://github.com/{CVD_CANCER_SOURCE['repo']} commit"
        f" {CVD_CANCER_SOURCE['commit']} {CVD_CANCER_SOURCE['folder']}/*/*.txt, {len(paths)}"
        f" lists (not those matching '{CVD_CANCER_SOURCE['skip'].pattern}'); sha256 of their"
        f" paths and contents: {digest.hexdigest()}",
        "# codes that another extract of cds_service/knowledge/expansion/inputs lists are left"
        " out (read and reviewed there)",
        f"# licence: {CVD_CANCER_INPUT['licence']}",
        "# columns: code<TAB>term (no semantic tag)<TAB>numbers of the lists that hold it;"
        " '# vs' lines: number<TAB>aurum:<group>/<list><TAB><group>/<list>",
        "# Regenerate: python -m cds_service.knowledge.expansion.conditions --refresh-cvd-cancer"
        " <folder with the checkout, named as the repository>",
    ]
    _only_new_listing(out, CVD_CANCER_FILE, rows, head)


SYSTEMS = {
    "snomed": "http://snomed.info/sct",
    "sct": "http://snomed.info/sct",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "icd-10-cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "icd10": "http://hl7.org/fhir/sid/icd-10",
    "icd-10": "http://hl7.org/fhir/sid/icd-10",
}


@dataclass
class Evaluation:
    """Per expected concept: the codes found, missed, and read as a concept they are not."""

    found: dict[str, list[str]] = field(default_factory=dict)
    missed: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    false: list[tuple[str, str, str, str]] = field(default_factory=list)  # code, sys, exp, got

    def report(self) -> list[str]:
        lines = []
        total_found = sum(len(v) for v in self.found.values())
        total = total_found + sum(len(v) for v in self.missed.values())
        for concept in sorted(set(self.found) | set(self.missed)):
            hit, miss = len(self.found.get(concept, [])), len(self.missed.get(concept, []))
            fp = sum(1 for row in self.false if row[2] == concept)
            lines.append(
                f"{concept}\t{hit}/{hit + miss}\t{100 * hit / (hit + miss):.1f} %\tfalse {fp}"
            )
        negatives = sum(1 for row in self.false if row[2] == "none")
        pct = 100 * total_found / total if total else 100.0
        lines.append(f"ALL\t{total_found}/{total}\t{pct:.1f} %\tfalse {len(self.false)}")
        lines.append(f"(look-alikes read as a concept: {negatives})")
        for concept, rows in sorted(self.missed.items()):
            lines += [f"missed\t{concept}\t{code}\t{system}\t{note}" for code, system, note in rows]
        lines += [
            f"false\t{exp}\t{code}\t{system}\tread as {got}"
            for code, system, exp, got in self.false
        ]
        return lines


def evaluate(
    rows: Iterable[tuple[str, str, str, str]],
    vs: Any,
    read_display: Callable[[Any, str], str | None] | None = None,
) -> Evaluation:
    """Read each (code, system, expected concept or "none", note) through the service's own
    ValueSets.condition_concept, by code only (with `read_display`, a code the service does
    not know is read by its display with it: normalise.conditions.display_concept reads it as
    the service does; scripts/evaluate_conditions.py --code-list passes it): recall per
    expected concept, and
    every code read as a concept it is not (a false positive). An expected "a+b" needs both,
    "a|b" either."""
    out = Evaluation()
    for code, system, expected, note in rows:
        uri = SYSTEMS.get(system.strip().lower(), system.strip())
        got = vs.condition_concept(uri, code.strip())
        if got is None and read_display is not None and note:
            got = read_display(vs, note)
        concepts = set(vs.concepts_with_implied(got)) if got else set()
        if expected == "none":
            if concepts:
                out.false.append((code, system, expected, got or ""))
            continue
        # "a+b": a code that means both; "a|b": either is right (a list of VTE codes: dvt|pe|vte)
        wanted = set(expected.replace("|", "+").split("+"))
        either = "|" in expected
        if (wanted & concepts) if either else (wanted <= concepts):
            out.found.setdefault(expected, []).append(code)
        else:
            out.missed.setdefault(expected, []).append((code, system, note))
        # a false positive reads only concepts it does not mean; a reading that means the
        # expected concept (itself or by implication: rheumatoid lung disease is
        # extra_articular_ra+ild, which means ra) and says more is found, never false too
        parts = set(got.split("+")) if got else set()
        wrong = {c for c in parts if c not in wanted and not (vs.concepts_with_implied(c) & wanted)}
        if wrong and not concepts & wanted:
            out.false.append((code, system, expected, got or ""))
    return out


def read_code_list(path: Path) -> list[tuple[str, str, str, str]]:
    """A code list: code<TAB>system<TAB>expected concept or "none"[<TAB>display[<TAB>...]];
    lines starting with # are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 3:
            raise SystemExit(f"{path}: expected code, system, concept: {line!r}")
        rows.append((cells[0], cells[1], cells[2].strip(), cells[3] if len(cells) > 3 else ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file differs")
    parser.add_argument("--review", action="store_true", help="print the look-alike review")
    parser.add_argument("--refresh-gps", type=Path, metavar="DIR", help="unpacked npm package")
    parser.add_argument("--refresh-r4x", type=Path, metavar="DIR", help="unpacked npm package")
    parser.add_argument("--refresh-ecqm", type=Path, metavar="DIR", help="repository checkouts")
    parser.add_argument("--refresh-ohdsi", type=Path, metavar="DIR", help="repository checkout")
    parser.add_argument("--refresh-ecr", type=Path, metavar="DIR", help="repository checkout")
    parser.add_argument(
        "--refresh-fhir-ig", type=Path, metavar="DIR", help="npm packages and checkouts"
    )
    parser.add_argument(
        "--refresh-ecqm-more", type=Path, metavar="DIR", help="repository checkouts"
    )
    parser.add_argument(
        "--refresh-morphology", type=Path, metavar="DIR", help="npm packages (R5, R4B)"
    )
    parser.add_argument(
        "--refresh-opensafely", type=Path, metavar="DIR", help="repository checkouts"
    )
    parser.add_argument(
        "--refresh-opensafely-more", type=Path, metavar="DIR", help="repository checkouts"
    )
    parser.add_argument(
        "--refresh-uk-hierarchies", type=Path, metavar="DIR", help="repository checkout"
    )
    parser.add_argument(
        "--refresh-ohdsi-studies", type=Path, metavar="DIR", help="repository checkouts"
    )
    parser.add_argument("--refresh-bhf", type=Path, metavar="DIR", help="repository checkouts")
    parser.add_argument("--refresh-aurum", type=Path, metavar="DIR", help="repository checkout")
    parser.add_argument("--refresh-mondo", type=Path, metavar="DIR", help="repository checkout")
    parser.add_argument("--refresh-icdo3", type=Path, metavar="DIR", help="repository checkout")
    parser.add_argument(
        "--refresh-cvd-cancer", type=Path, metavar="DIR", help="repository checkout"
    )
    args = parser.parse_args(argv)
    if args.refresh_gps:
        refresh_gps(args.refresh_gps)
    if args.refresh_r4x:
        refresh_r4x(args.refresh_r4x)
    if args.refresh_ecqm:
        refresh_ecqm(args.refresh_ecqm)
    if args.refresh_ohdsi:
        refresh_ohdsi(args.refresh_ohdsi)
    if args.refresh_ecr:
        refresh_ecr(args.refresh_ecr)
    if args.refresh_fhir_ig:
        refresh_fhir_ig(args.refresh_fhir_ig)
    if args.refresh_ecqm_more:
        refresh_ecqm_more(args.refresh_ecqm_more)
    if args.refresh_morphology:
        refresh_morphology(args.refresh_morphology)
    if args.refresh_opensafely:
        refresh_opensafely(args.refresh_opensafely)
    if args.refresh_opensafely_more:
        refresh_opensafely_more(args.refresh_opensafely_more)
    if args.refresh_ohdsi_studies:
        refresh_ohdsi_studies(args.refresh_ohdsi_studies)
    if args.refresh_uk_hierarchies:
        refresh_uk_hierarchies(args.refresh_uk_hierarchies)
    if args.refresh_bhf:
        refresh_bhf(args.refresh_bhf)
    if args.refresh_aurum:
        refresh_aurum(args.refresh_aurum)
    if args.refresh_mondo:
        refresh_mondo(args.refresh_mondo)
    if args.refresh_icdo3:
        refresh_icdo3(args.refresh_icdo3)
    if args.refresh_cvd_cancer:
        refresh_cvd_cancer(args.refresh_cvd_cancer)
    text, review = generate_both()
    if args.review:
        for row in json.loads(review)["review"]:
            print("\t".join(row))
        return 0
    if args.check:
        for path, wanted in ((OUTPUT, text), (REVIEW_OUTPUT, review)):
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != wanted:
                print(f"{path} is not what the definitions produce: rebuild it", file=sys.stderr)
                return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    REVIEW_OUTPUT.write_text(review, encoding="utf-8")
    doc = json.loads(text)
    for concept, table in doc["concepts"].items():
        if table["snomed"] or table["icd10cm"]:
            print(f"{concept}: {len(table['snomed'])} SNOMED CT, {len(table['icd10cm'])} ICD-10-CM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
