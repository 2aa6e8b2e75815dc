"""The README's configuration example is a configuration the service accepts, as written."""

from __future__ import annotations

import re
from pathlib import Path

from cds_service.app import create_app
from cds_service.config import load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_configuration_example_loads(tmp_path: Path) -> None:
    block = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block, "README has no TOML configuration example"
    text = block.group(1).replace(
        'url = "postgresql+psycopg://cds@db/cds"', f'url = "sqlite:///{tmp_path}/r.db"'
    )
    path = tmp_path / "rheum-cds.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path, env={})
    app = create_app(config)
    knowledge = app.extensions["rheum_cds.knowledge"]
    assert config.label_region == "EU" and config.clients[0].issuer == "https://ehr.example.org"
    assert knowledge.rule("JAKI-TB-SCREEN")["window_days"] == 180
    assert "JAKI-CONTRACEPTION" in config.disabled_rules
