"""Named configuration presets, as data (one TOML file each, with its sources).

`sandbox()` is the public CDS Hooks sandbox: a trusted client with its published key inline,
the FHIR servers it offers, its browser origin. `config.with_sandbox` applies it.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass(frozen=True)
class ClientPreset:
    """A trusted client as a preset gives it (config.TrustedClient is built from it)."""

    issuer: str
    jwks: dict[str, Any]
    jku_allowed: tuple[str, ...]
    fhir_servers: tuple[str, ...]


@dataclass(frozen=True)
class SandboxPreset:
    client: ClientPreset
    origin: str  # browser origin of the sandbox's pages


@cache
def sandbox() -> SandboxPreset:
    """The public CDS Hooks sandbox (presets/sandbox.toml)."""
    with (HERE / "sandbox.toml").open("rb") as fh:
        data = tomllib.load(fh)
    client = data["client"]
    jwks = json.loads((HERE / client["jwks_file"]).read_text(encoding="utf-8"))
    return SandboxPreset(
        client=ClientPreset(
            issuer=client["issuer"],
            jwks=jwks,
            jku_allowed=tuple(client["jku_allowed"]),
            fhir_servers=tuple(s.rstrip("/") for s in client["fhir_servers"]),
        ),
        origin=data["origin"],
    )
