"""`rheum-cds docs`: regenerate docs/rules/ from the knowledge files and the card catalogue."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "write the rule and score pages (docs/rules/) from the knowledge files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("docs/rules"), help="folder (docs/rules)")


def main(args: argparse.Namespace) -> int:
    from cds_service.knowledge import load_knowledge
    from cds_service.rule_docs import pages

    args.out.mkdir(parents=True, exist_ok=True)
    generated = pages(load_knowledge())
    for stale in args.out.glob("*.md"):
        if stale.name not in generated:
            stale.unlink()
    for name, text in generated.items():
        (args.out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(generated)} pages to {args.out}")
    return 0
