"""Descendant closure of the concept roots from a SNOMED CT RF2 snapshot (licensed sites).

An RF2 release (International Edition or a national extension) holds, under
`Snapshot/Terminology/`, tab-separated files with a header line:

- `sct2_Concept_Snapshot_*.txt`: id, effectiveTime, active, moduleId, definitionStatusId
- `sct2_Description_Snapshot*.txt`: id, effectiveTime, active, moduleId, conceptId,
  languageCode, typeId, term, caseSignificanceId
- `sct2_Relationship_Snapshot_*.txt` (inferred): id, effectiveTime, active, moduleId, sourceId,
  destinationId, relationshipGroup, typeId, characteristicTypeId, modifierId

Only active concepts and active IS-A relationships (typeId 116680003) count. The closure of a
root is the root and every concept reachable from it through IS-A children. The display of a
code is its active fully specified name (900000000000003001), else an active synonym
(900000000000013009); English first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cds_service.terminology.store import CodeRow

IS_A = "116680003"
FSN = "900000000000003001"
SYNONYM = "900000000000013009"

CONCEPT_COLUMNS = ("id", "effectiveTime", "active", "moduleId", "definitionStatusId")
DESCRIPTION_COLUMNS = (
    "id",
    "effectiveTime",
    "active",
    "moduleId",
    "conceptId",
    "languageCode",
    "typeId",
    "term",
    "caseSignificanceId",
)
RELATIONSHIP_COLUMNS = (
    "id",
    "effectiveTime",
    "active",
    "moduleId",
    "sourceId",
    "destinationId",
    "relationshipGroup",
    "typeId",
    "characteristicTypeId",
    "modifierId",
)

_RELEASE_TAG = re.compile(r"_([A-Za-z0-9]+_\d{8})\.txt$")


class Rf2Error(ValueError):
    """The folder is not an RF2 snapshot the import can read; the message says what is wrong."""


@dataclass
class Rf2Closure:
    """Codes under each concept's roots, with displays, and the release they came from."""

    version: str
    rows: list[CodeRow] = field(default_factory=list)
    concepts: int = 0  # active concepts in the release
    is_a: int = 0  # active IS-A relationships between active concepts
    missing_roots: tuple[str, ...] = ()  # roots that are not active concepts of the release


def _find(folder: Path, pattern: str, exclude: Sequence[str] = ()) -> list[Path]:
    found = sorted(
        p
        for p in folder.rglob(pattern)
        if p.is_file() and not any(x in p.name for x in exclude) and "Full" not in p.parts
    )
    return found


def _rows(path: Path, columns: Sequence[str]) -> Iterator[list[str]]:
    """Rows of one RF2 file as lists of fields (checked against the expected header)."""
    with path.open(encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if tuple(header[: len(columns)]) != tuple(columns):
            raise Rf2Error(f"{path.name}: header is not the RF2 header ({', '.join(columns)})")
        width = len(columns)
        for line in handle:
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) >= width:
                yield fields


def build_closure(folder: Path, roots: Mapping[str, Sequence[str]]) -> Rf2Closure:
    """Read the RF2 snapshot under `folder` and list, for each concept id of `roots`, every
    active SNOMED CT concept equal to or below one of its root codes."""
    if not folder.is_dir():
        raise Rf2Error(f"{folder}: not a folder")
    concept_files = _find(folder, "sct2_Concept_Snapshot*.txt")
    relationship_files = _find(
        folder, "sct2_Relationship_Snapshot*.txt", exclude=("Concrete", "Stated")
    )
    description_files = _find(folder, "sct2_Description_Snapshot*.txt")
    for name, files in (
        ("sct2_Concept_Snapshot", concept_files),
        ("sct2_Relationship_Snapshot", relationship_files),
        ("sct2_Description_Snapshot", description_files),
    ):
        if not files:
            raise Rf2Error(f"{folder}: no {name}*.txt (is this an RF2 snapshot folder?)")

    active: set[str] = set()
    latest = ""
    for path in concept_files:
        for fields in _rows(path, CONCEPT_COLUMNS):
            latest = max(latest, fields[1])
            if fields[2] == "1":
                active.add(fields[0])
                continue
            active.discard(fields[0])

    children: dict[str, list[str]] = {}
    is_a = 0
    for path in relationship_files:
        for fields in _rows(path, RELATIONSHIP_COLUMNS):
            if fields[2] != "1" or fields[7] != IS_A:
                continue
            child, parent = fields[4], fields[5]
            if child in active and parent in active:
                children.setdefault(parent, []).append(child)
                is_a += 1

    members: dict[str, set[str]] = {}
    missing: list[str] = []
    for concept, codes in roots.items():
        seen: set[str] = set()
        stack = []
        for root in codes:
            if root in active:
                stack.append(root)
            else:
                missing.append(root)
        while stack:
            code = stack.pop()
            if code in seen:
                continue
            seen.add(code)
            stack.extend(children.get(code, ()))
        if seen:
            members[concept] = seen

    wanted = set().union(*members.values()) if members else set()
    display = _displays(description_files, wanted)
    rows = [
        CodeRow(concept=concept, code=code, display=display.get(code))
        for concept in sorted(members)
        for code in sorted(members[concept])
    ]
    match = _RELEASE_TAG.search(concept_files[0].name)
    version = f"SNOMED CT RF2 {match.group(1) if match else latest}"
    return Rf2Closure(
        version=version,
        rows=rows,
        concepts=len(active),
        is_a=is_a,
        missing_roots=tuple(dict.fromkeys(missing)),
    )


def _displays(files: Sequence[Path], wanted: set[str]) -> dict[str, str]:
    """Display per concept id: English FSN, else English synonym, else any FSN / synonym."""
    ranked: dict[str, tuple[int, str]] = {}
    for path in files:
        for fields in _rows(path, DESCRIPTION_COLUMNS):
            concept = fields[4]
            if fields[2] != "1" or concept not in wanted:
                continue
            kind = fields[6]
            if kind not in (FSN, SYNONYM):
                continue
            rank = (0 if kind == FSN else 1) + (0 if fields[5] == "en" else 2)
            best = ranked.get(concept)
            if best is None or rank < best[0]:
                ranked[concept] = (rank, fields[7])
    return {concept: term for concept, (_, term) in ranked.items()}
