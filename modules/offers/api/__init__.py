"""Thin handlers of ``openapi/offers.yaml``, one file per resource."""
