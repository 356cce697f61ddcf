"""Thin handlers of ``openapi/scoring.yaml``, one file per resource."""
