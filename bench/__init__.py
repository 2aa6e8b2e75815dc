"""The rheum-cds benchmark: `python -m bench` (see docs/performance.md)."""
