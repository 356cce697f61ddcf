"""Jurisdiction rule packs, one YAML file each, every rule citing its legal source."""
