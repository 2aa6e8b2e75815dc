"""The wheel carries the card catalogue, the examples and the demo charts (`pip install .`).

The demo is run from the unpacked wheel alone (the source tree is not on the path), so a
template or example missing from the package data fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is needed to copy the committed tree")
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "*.egg-info",
            "build",
            "dist",
            "tests",
            "bench",
            "deploy",
            "docs",
            "__pycache__",
            "*.db",
        ),
    )
    base = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist")]
    # offline first (setuptools and wheel of this environment), else an isolated build
    for extra in (["--no-build-isolation"], []):
        done = subprocess.run(
            [*base, *extra, str(src)], capture_output=True, text=True, timeout=300
        )
        if done.returncode == 0:
            break
    assert done.returncode == 0, done.stderr
    [wheel] = (work / "dist").glob("rheum_cds-*.whl")
    target = work / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    return target


def test_wheel_holds_every_template_and_example(unpacked_wheel: Path) -> None:
    for lang in ("en", "zh-TW", "zh-CN", "ja"):
        assert (unpacked_wheel / "cards" / "templates" / f"{lang}.toml").is_file()
    assert (unpacked_wheel / "cards" / "fhir_codes.toml").is_file()
    assert len(list((unpacked_wheel / "cards" / "examples").glob("*.json"))) >= 5


def test_demo_runs_from_the_installed_package(unpacked_wheel: Path, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(unpacked_wheel),
        "PYTHONNOUSERSITE": "1",
        "NO_COLOR": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    code = (
        f"import sys; sys.path = [p for p in sys.path if not p.startswith({str(ROOT)!r}) "
        f"or p.startswith({str(ROOT / '.venv')!r})]; "  # scripts/test.sh's venv is in the repo
        "import cards, cds_service; "
        f"assert cards.__file__.startswith({str(unpacked_wheel)!r}), cards.__file__; "
        "from cds_service.cli import main; sys.exit(main(['demo', '--lang', 'zh-TW', "
        "'--patient', 'ra-elderly-smoker']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "托法替尼" in done.stdout and "[嚴重]" in done.stdout
