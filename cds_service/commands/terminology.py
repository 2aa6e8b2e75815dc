"""`rheum-cds terminology ...`: the institution's SNOMED CT terminology in the service's storage.

    rheum-cds terminology import-snomed <RF2 snapshot folder> [--config FILE]
        Builds the descendant closure of every condition concept's SNOMED CT roots from the
        release's active IS-A relationships and stores it (replacing an earlier import) in the
        database of the configuration's `[storage] url`. Workers read it when they start.
    rheum-cds terminology status [--config FILE]
        What is stored: per source, its version, number of codes and when it was loaded.

For sites that hold a SNOMED CT licence (the RF2 release is not shipped). See
docs/terminology.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cds_service.terminology.store import TerminologyStore

HELP = "SNOMED CT for this site: import an RF2 release, show what is stored"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import-snomed",
        help="store the descendants of every concept root from an RF2 snapshot folder",
    )
    imp.add_argument("folder", type=Path, help="RF2 release folder (its Snapshot is read)")
    imp.add_argument("--config", metavar="FILE", help="TOML configuration file (storage URL)")
    status = sub.add_parser("status", help="what terminology codes the storage holds")
    status.add_argument("--config", metavar="FILE", help="TOML configuration file")


def main(args: argparse.Namespace) -> int:
    from cds_service.config import ConfigError, load_config
    from cds_service.knowledge import KnowledgeError, load_knowledge
    from cds_service.storage import Storage, StorageError
    from cds_service.terminology.store import RF2_SOURCE, TerminologyStore, server_source

    try:
        config = load_config(args.config)
        knowledge = load_knowledge(overrides=config.rule_overrides, local_codes=config.local_codes)
    except (ConfigError, KnowledgeError) as exc:
        print(f"rheum-cds terminology: configuration error: {exc}", file=sys.stderr)
        return 2
    storage = Storage(config.storage_url, config.patient_hash_key)
    store = TerminologyStore(storage.engine)
    try:
        if args.action == "status":
            sources = [RF2_SOURCE]
            if config.terminology.enabled:
                sources.append(server_source(config.terminology.url))
            out = {}
            for source in sources:
                state = store.state(source)
                out[source] = (
                    None
                    if state is None
                    else {
                        "version": state.version,
                        "codes": state.codes,
                        "updated_at": state.updated_at.isoformat() if state.updated_at else None,
                    }
                )
            print(json.dumps(out, indent=2))
            return 0
        return _import(args.folder, knowledge.vs.snomed_roots(), store)
    except StorageError as exc:
        print(f"rheum-cds terminology: storage unavailable: {exc}", file=sys.stderr)
        return 1
    finally:
        storage.dispose()


def _import(folder: Path, roots: dict[str, tuple[str, ...]], store: TerminologyStore) -> int:
    from cds_service.terminology.rf2 import Rf2Error, build_closure
    from cds_service.terminology.store import RF2_SOURCE

    try:
        closure = build_closure(folder, roots)
    except (Rf2Error, OSError) as exc:
        print(f"rheum-cds terminology import-snomed: {exc}", file=sys.stderr)
        return 2
    if not closure.rows:
        print(
            "rheum-cds terminology import-snomed: no concept root is an active concept of this "
            "release; nothing stored",
            file=sys.stderr,
        )
        return 1
    stored = store.replace(RF2_SOURCE, closure.version, closure.rows)
    concepts = len({row.concept for row in closure.rows})
    print(
        f"{closure.version}: {closure.concepts} active concepts, {closure.is_a} IS-A "
        f"relationships; stored {stored} codes under {concepts} condition concepts"
    )
    if closure.missing_roots:
        print(
            f"{len(closure.missing_roots)} concept roots are not active concepts of this release: "
            + ", ".join(closure.missing_roots)
        )
    print("Restart the service (or its workers) to use them.")
    return 0
