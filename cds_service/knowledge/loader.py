"""Load and validate the knowledge files (TOML) of this folder."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


class KnowledgeError(ValueError):
    """A knowledge file (or an institution's override) is broken; start-up must stop."""


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc


@dataclass(frozen=True)
class Knowledge:
    """All knowledge files, by file stem (and valuesets/<stem>), as plain dicts."""

    concepts: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule id -> parameters

    def rule(self, rule_id: str) -> dict[str, Any]:
        try:
            return self.rules[rule_id]
        except KeyError as exc:
            raise KnowledgeError(f"no rule parameters for {rule_id}") from exc


def load_knowledge(directory: Path | None = None) -> Knowledge:
    """Read every *.toml under `directory` (default: this package folder).

    `rules_*.toml` files hold tables keyed by rule id; they are merged into `rules`.
    """
    base = directory or HERE
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(base.rglob("*.toml")):
        key = path.relative_to(base).with_suffix("").as_posix()
        files[key] = _read(path)
    rules: dict[str, dict[str, Any]] = {}
    for key, data in files.items():
        if key.startswith("rules_"):
            for rule_id, params in data.items():
                if rule_id in rules:
                    raise KnowledgeError(f"rule {rule_id} defined twice ({key})")
                rules[rule_id] = params
    return Knowledge(concepts=files.get("concepts", {}), files=files, rules=rules)
