"""Rewrite the committed demo bundles: `python -m cds_service.demo_data [--anchor YYYY-MM-DD]`."""

from __future__ import annotations

import argparse
from datetime import date

from cds_service.demo_data import ANCHOR, HERE, write_bundles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--anchor", type=date.fromisoformat, default=ANCHOR)
    args = parser.parse_args()
    for path in write_bundles(HERE, args.anchor):
        print(path)


if __name__ == "__main__":
    main()
