"""The `rheum-cds` command: one subcommand per module in cds_service/commands/.

A subcommand module defines

    HELP = "one line for `rheum-cds --help`"
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def main(args: argparse.Namespace) -> int: ...

and is registered with one line in COMMANDS below. Keep module-level imports of a command
light (import the service inside `main`), so `rheum-cds --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "serve": "cds_service.commands.serve",
    "docs": "cds_service.commands.docs",
    "load-demo": "cds_service.commands.load_demo",
    "try": "cds_service.commands.try_hook",
    "demo": "cds_service.commands.demo",
    "terminology": "cds_service.commands.terminology",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rheum-cds",
        description="CDS Hooks service: JAK inhibitor / biologic safety and disease activity.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_main=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args._main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
