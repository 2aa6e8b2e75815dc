"""Shared by the terminology tests: a SNOMED CT-shaped fragment (real identifiers of the
concepts' roots and a few of their descendants), RF2 files written from it, and a hook call
that reports which findings fired."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from flask import Flask

from tests.service import samples

SCT = "http://snomed.info/sct"
ROOT = "138875005"  # SNOMED CT Concept
DISEASE = "64572001"
DVT = "128053003"  # root of the dvt concept (conditions.toml)
# The descendants below are made-up identifiers (like RETIRED): real ones, such as 404223003 DVT
# of lower extremity or 706870000 acute PE, are in the shipped expansion now, and a code the
# shipped data knows never reaches the terminology server, which is what these tests exercise.
DVT_LEG = "1000101008"  # a DVT descendant the shipped codes do not list
DVT_FEMORAL = "1000102003"  # below DVT_LEG
PE = "59282003"  # root of the pe concept
PE_ACUTE = "1000103009"  # a PE descendant the shipped codes do not list
HYPERTENSION = "38341003"
MALIGNANT_HTN = "78975002"  # malignant essential hypertension: a hypertension, no malignancy
THROMBOPHLEBITIS = "64156001"  # Thrombophlebitis: related, but no DVT
RETIRED = "1000099003"  # made-up identifier of an inactive concept in the RF2 fixture

# (code, display, parents)
FRAGMENT: list[tuple[str, str, tuple[str, ...]]] = [
    (ROOT, "SNOMED CT Concept", ()),
    (DISEASE, "Disease", (ROOT,)),
    (DVT, "Deep venous thrombosis", (DISEASE,)),
    (DVT_LEG, "Deep venous thrombosis of lower extremity", (DVT,)),
    (DVT_FEMORAL, "Deep venous thrombosis of femoral vein", (DVT_LEG,)),
    (PE, "Pulmonary embolism", (DISEASE,)),
    (PE_ACUTE, "Acute pulmonary embolism", (PE,)),
    (HYPERTENSION, "Hypertensive disorder", (DISEASE,)),
    (MALIGNANT_HTN, "Malignant essential hypertension", (HYPERTENSION,)),
    (THROMBOPHLEBITIS, "Thrombophlebitis", (DISEASE,)),
]


def codesystem(version: str) -> dict:
    """The fragment as a FHIR CodeSystem (url http://snomed.info/sct), children nested under
    their parent (the hierarchy HAPI reads for $subsumes and is-a)."""
    nodes: dict[str, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for code, display, parents in FRAGMENT:
        nodes[code] = {"code": code, "display": display}
        if parents:
            nodes[parents[0]].setdefault("concept", []).append(nodes[code])
        else:
            top.append(nodes[code])
    return {
        "resourceType": "CodeSystem",
        "id": "sct-fragment",
        "url": SCT,
        "version": version,
        "name": "SnomedFragment",
        "status": "active",
        "content": "complete",
        "hierarchyMeaning": "is-a",
        "concept": top,
    }


def condition(code: str, cid: str = "cond-x") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": SCT, "code": code}]},
        "subject": {"reference": f"Patient/{samples.PATIENT_ID}"},
        "onsetDateTime": "2026-09-01",
    }


def call_hook(app: Flask, *codes: str) -> dict[str, Any]:
    """order-sign for tofacitinib with an RA chart plus Conditions coded `codes`; returns
    {"status", "findings" (ids), "notAssessed" (ids), "body"}."""
    prefetch = samples.full_prefetch()
    extra = [condition(code, f"cond-{i}") for i, code in enumerate(codes)]
    prefetch["conditions"] = samples.searchset(copy.deepcopy(samples.RA), *extra)
    response = app.test_client().post(
        "/cds-services/rheum-order-sign",
        data=orjson.dumps(samples.order_sign(prefetch=prefetch)),
        content_type="application/json",
        buffered=True,
    )
    body = response.get_json()
    findings: set[str] = set()
    missing: set[str] = set()
    for card in body.get("cards", []) if isinstance(body, dict) else []:
        ext = (card.get("extension") or {}).get("org.rheum-cds") or {}
        findings |= {f["id"] for f in ext.get("findings", [])}
        missing |= {n["id"] for n in ext.get("notAssessed", [])}
    return {"status": response.status_code, "findings": findings, "notAssessed": missing}


# --------------------------------------------------------------------------- RF2

CONCEPT_HEADER = "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId"
DESCRIPTION_HEADER = (
    "id\teffectiveTime\tactive\tmoduleId\tconceptId\tlanguageCode\ttypeId\tterm\tcaseSignificanceId"
)
RELATIONSHIP_HEADER = (
    "id\teffectiveTime\tactive\tmoduleId\tsourceId\tdestinationId\trelationshipGroup\ttypeId\t"
    "characteristicTypeId\tmodifierId"
)
CORE = "900000000000207008"
PRIMITIVE = "900000000000074008"
FSN = "900000000000003001"
SYNONYM = "900000000000013009"
INFERRED = "900000000000011006"
EXISTENTIAL = "900000000000451002"
IS_A = "116680003"
FINDING_SITE = "363698007"
CASE = "900000000000448009"


def write_rf2(folder: Path, release: str = "20250101") -> Path:
    """An RF2-shaped snapshot of FRAGMENT under folder/Snapshot/Terminology, plus what a real
    release has that must be ignored: an inactive concept with an (active) IS-A to DVT, an
    inactive IS-A from thrombophlebitis to DVT, a non-IS-A relationship and an inactive FSN."""
    terms = folder / "Snapshot" / "Terminology"
    terms.mkdir(parents=True)
    concepts = [CONCEPT_HEADER]
    descriptions = [DESCRIPTION_HEADER]
    relationships = [RELATIONSHIP_HEADER]
    n = 0

    def rel(source: str, dest: str, active: str = "1", kind: str = IS_A) -> None:
        nonlocal n
        n += 1
        relationships.append(
            f"{n}02{n}\t{release}\t{active}\t{CORE}\t{source}\t{dest}\t0\t{kind}\t{INFERRED}\t"
            f"{EXISTENTIAL}"
        )

    for i, (code, display, parents) in enumerate(FRAGMENT):
        concepts.append(f"{code}\t{release}\t1\t{CORE}\t{PRIMITIVE}")
        descriptions.append(
            f"{i}1011\t{release}\t1\t{CORE}\t{code}\ten\t{FSN}\t{display} (disorder)\t{CASE}"
        )
        descriptions.append(
            f"{i}2011\t{release}\t1\t{CORE}\t{code}\ten\t{SYNONYM}\t{display}\t{CASE}"
        )
        for parent in parents:
            rel(code, parent)
    concepts.append(f"{RETIRED}\t{release}\t0\t{CORE}\t{PRIMITIVE}")
    descriptions.append(
        f"99011\t{release}\t1\t{CORE}\t{RETIRED}\ten\t{FSN}\tRetired DVT (disorder)\t{CASE}"
    )
    rel(RETIRED, DVT)  # an active row on an inactive concept: ignored
    rel(THROMBOPHLEBITIS, DVT, active="0")  # retired IS-A: ignored
    rel(DVT_LEG, "61685007", kind=FINDING_SITE)  # not IS-A: ignored
    descriptions.append(
        f"98011\t{release}\t0\t{CORE}\t{DVT_LEG}\ten\t{FSN}\tOld name of DVT of leg\t{CASE}"
    )
    (terms / f"sct2_Concept_Snapshot_INT_{release}.txt").write_text(
        "\n".join(concepts) + "\n", encoding="utf-8"
    )
    (terms / f"sct2_Description_Snapshot-en_INT_{release}.txt").write_text(
        "\n".join(descriptions) + "\n", encoding="utf-8"
    )
    (terms / f"sct2_Relationship_Snapshot_INT_{release}.txt").write_text(
        "\n".join(relationships) + "\n", encoding="utf-8"
    )
    return folder


# --------------------------------------------------------------------------- stand-ins


class StandIn:
    """A loopback HTTP server that records each request's path and answers after `delay`
    seconds with `answer` (JSON) — a slow terminology server; or, with `forward_to`, passes
    every request on to a real server and returns its answer (a recording proxy)."""

    def __init__(
        self,
        delay: float = 0.0,
        answer: dict[str, Any] | Callable[[str], dict[str, Any]] | None = None,
        forward_to: str | None = None,
    ) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import requests

        self.paths: list[str] = []
        self.authorizations: list[str | None] = []  # Authorization header of each request
        self.delay = delay
        stand_in = self
        session = requests.Session()
        session.trust_env = False

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                stand_in.paths.append(self.path)
                stand_in.authorizations.append(self.headers.get("Authorization"))
                if stand_in.delay:
                    import time

                    time.sleep(stand_in.delay)
                if forward_to:
                    upstream = session.request(
                        self.command,
                        forward_to.rstrip("/") + self.path.removeprefix("/fhir"),
                        data=body,
                        headers={
                            k: v
                            for k, v in self.headers.items()
                            if k.lower() in ("content-type", "accept")
                        },
                        timeout=60,
                    )
                    status, payload = upstream.status_code, upstream.content
                elif callable(answer):
                    status, payload = 200, orjson.dumps(answer(self.path))
                else:
                    status, payload = 200, orjson.dumps(answer or {})
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def calls(self, operation: str) -> int:
        return sum(1 for p in self.paths if operation in p)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
