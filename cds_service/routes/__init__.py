"""HTTP routes (Flask blueprints): discovery, hooks, feedback, operations."""
