"""docs/integration.md's sandbox walk-through and README's first step say what the code does:
the command exists, the log lines quoted are the service's, the signed-only configuration
trusts the key the sandbox publishes."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from cds_service.cli import build_parser
from cds_service.commands.serve import startup_notes
from cds_service.config import Config, config_from_dict, with_sandbox
from cds_service.presets import HERE as PRESETS

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = (ROOT / "docs" / "integration.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start : end if end > 0 else None]


SANDBOX = _section(INTEGRATION, "## 2. The CDS Hooks sandbox in five minutes")


def test_the_one_command_is_a_real_command() -> None:
    assert "rheum-cds serve --sandbox" in SANDBOX and "rheum-cds serve --sandbox" in README
    args = build_parser().parse_args(["serve", "--sandbox"])
    assert args.sandbox


def test_quoted_start_up_lines_are_the_service_s() -> None:
    notes = [note for _, note in startup_notes(with_sandbox(Config()))]
    quoted = re.search(r"```\n(register .*?)```", SANDBOX, re.S)
    assert quoted
    for line in quoted[1].strip().splitlines():
        prefix = line.split("...")[0].strip()
        assert any(note.startswith(prefix) for note in notes), line


def test_signed_only_configuration_trusts_the_published_key() -> None:
    block = re.search(r"```toml\n(.*?)```", SANDBOX, re.S)
    assert block
    cfg = config_from_dict(tomllib.loads(block[1]), env={})
    [client] = cfg.clients
    shipped = json.loads((PRESETS / "sandbox-jwks.json").read_text())
    assert client.jwks is not None
    assert client.jwks["keys"][0] == {**shipped["keys"][0]}
    assert not cfg.allow_unsigned


def test_the_aud_rule_and_the_dstu2_default_are_documented() -> None:
    assert "http://127.0.0.1:8080/cds-services" in SANDBOX and "bad_aud" in SANDBOX
    assert "https://launch.smarthealthit.org/v/r2/fhir" in SANDBOX and "DSTU2" in SANDBOX
    assert "rheum-cds load-demo --fhir" in SANDBOX
