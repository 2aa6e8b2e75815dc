"""Subcommands of `rheum-cds` (registered in cds_service/cli.py)."""
