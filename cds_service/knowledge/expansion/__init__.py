"""Builders of the generated value-set expansions (run at development time, not at start)."""
