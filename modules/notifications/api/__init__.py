"""Thin handlers of ``openapi/notifications.yaml``, one file per resource."""
