"""Thin handlers of the gateway's own operations (``openapi/gateway.yaml``)."""
