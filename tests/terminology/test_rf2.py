"""`rheum-cds terminology import-snomed`: the descendant closure of the concept roots from an
RF2 snapshot, stored, and used by the service for codes the shipped value sets do not list."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.cli import main as cli
from cds_service.storage import Storage
from cds_service.terminology.rf2 import Rf2Error, build_closure
from cds_service.terminology.store import RF2_SOURCE, TerminologyStore
from tests.terminology.helpers import (
    DVT,
    DVT_FEMORAL,
    DVT_LEG,
    MALIGNANT_HTN,
    PE_ACUTE,
    RETIRED,
    THROMBOPHLEBITIS,
    call_hook,
    write_rf2,
)


def _config(tmp_path: Path, storage_url: str) -> Path:
    path = tmp_path / "rheum-cds.toml"
    path.write_text(f'[storage]\nurl = "{storage_url}"\n', encoding="utf-8")
    return path


def test_closure_follows_active_is_a_only(tmp_path, knowledge):
    closure = build_closure(write_rf2(tmp_path / "rf2"), knowledge.vs.snomed_roots())
    by_concept: dict[str, set[str]] = {}
    for row in closure.rows:
        by_concept.setdefault(row.concept, set()).add(row.code)
    assert {DVT, DVT_LEG, DVT_FEMORAL} <= by_concept["dvt"]
    assert PE_ACUTE in by_concept["pe"]
    assert MALIGNANT_HTN in by_concept["hypertension"]
    assert not any(MALIGNANT_HTN in codes for c, codes in by_concept.items() if c != "hypertension")
    everything = set().union(*by_concept.values())
    assert RETIRED not in everything  # inactive concept
    assert THROMBOPHLEBITIS not in everything  # only an inactive IS-A to DVT
    display = {row.code: row.display for row in closure.rows}
    assert display[DVT_LEG] == "Deep venous thrombosis of lower extremity (disorder)"
    assert closure.version == "SNOMED CT RF2 INT_20250101"
    assert "69896004" in closure.missing_roots  # RA is not in this small fragment


def test_not_an_rf2_folder(tmp_path, knowledge):
    (tmp_path / "empty").mkdir()
    with pytest.raises(Rf2Error, match="sct2_Concept_Snapshot"):
        build_closure(tmp_path / "empty", knowledge.vs.snomed_roots())
    folder = write_rf2(tmp_path / "rf2")
    concept_file = next(folder.rglob("sct2_Concept_Snapshot*.txt"))
    concept_file.write_text("code\tdisplay\n1\tx\n", encoding="utf-8")
    with pytest.raises(Rf2Error, match="header"):
        build_closure(folder, knowledge.vs.snomed_roots())


def test_import_command_stores_closure_and_service_recognises_descendants(
    tmp_path, storage_url, make_app, capsys
):
    before = make_app()
    assert "JAKI-VTE-HISTORY" not in call_hook(before, DVT_FEMORAL)["findings"]

    folder = write_rf2(tmp_path / "SnomedCT_RF2")
    config = _config(tmp_path, storage_url)
    assert cli(["terminology", "import-snomed", str(folder), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "SNOMED CT RF2 INT_20250101" in out

    storage = Storage(storage_url)
    try:
        store = TerminologyStore(storage.engine)
        rows = store.rows(RF2_SOURCE)
        assert {r["version"] for r in rows} == {"SNOMED CT RF2 INT_20250101"}
        assert {"dvt", DVT_FEMORAL} in [{r["concept"], r["code"]} for r in rows]
        state = store.state(RF2_SOURCE)
        assert state is not None and state.codes == len(rows)
        # a second import of a newer release replaces the first
        newer = write_rf2(tmp_path / "newer", release="20250701")
        assert cli(["terminology", "import-snomed", str(newer), "--config", str(config)]) == 0
        assert {r["version"] for r in store.rows(RF2_SOURCE)} == {"SNOMED CT RF2 INT_20250701"}
    finally:
        storage.dispose()

    after = make_app()
    result = call_hook(after, DVT_FEMORAL)
    assert result["status"] == 200
    assert "JAKI-VTE-HISTORY" in result["findings"]
    assert "JAKI-VTE-HISTORY" in call_hook(after, PE_ACUTE)["findings"]
    assert "JAKI-VTE-HISTORY" not in call_hook(after, THROMBOPHLEBITIS)["findings"]

    status = tmp_path / "status.json"
    assert cli(["terminology", "status", "--config", str(config)]) == 0
    status.write_text(capsys.readouterr().out, encoding="utf-8")
    assert "INT_20250701" in status.read_text(encoding="utf-8")
