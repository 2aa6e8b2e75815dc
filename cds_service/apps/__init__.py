"""SMART on FHIR apps the service serves (static assets and their chart settings)."""
