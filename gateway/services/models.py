"""Tables of service blueprints: services, their versions, rule runs and arm assignments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["ExperimentAssignment", "RuleRun", "Service", "ServiceVersion"]


class Service(TenantScoped, Base):
    """A tenant's service: its name and which version of its blueprint is active."""

    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63))
    #: ``active`` runs the rules of ``active_version``; ``inactive`` runs nothing.
    status: Mapped[str] = mapped_column(String(16), default="active")
    active_version: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
    )


class ServiceVersion(TenantScoped, Base):
    """One applied blueprint document; versions are numbered 1, 2, … per service."""

    __tablename__ = "service_versions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    service: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "service", "version"),)


class RuleRun(TenantScoped, Base):
    """What one rule did with one event: fired, skipped (and why) or failed (and how).

    Unique per event, service and rule: a redelivered event runs no rule twice.
    """

    __tablename__ = "rule_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str | None] = mapped_column(String(50), default=None)
    subject_id: Mapped[str | None] = mapped_column(String(64), default=None)
    service: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(100))
    arm: Mapped[str | None] = mapped_column(String(63), default=None)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: Each lookup and action: ``{kind, name, action, input, output | error}``.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id", "service", "rule"),
        CheckConstraint("outcome IN ('fired', 'skipped', 'failed')", name="outcome"),
        Index("ix_rule_runs_tenant_service_time", "tenant_id", "service", "created_at", "id"),
    )


class ExperimentAssignment(TenantScoped, Base):
    """The arm a subject was given in a rule's champion/challenger split; assigned once."""

    __tablename__ = "experiment_assignments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    service: Mapped[str] = mapped_column(String(63))
    experiment: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(64))
    arm: Mapped[str] = mapped_column(String(63))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "service", "experiment", "subject_type", "subject_id"),
        Index("ix_experiment_assignments_arm", "tenant_id", "service", "experiment", "arm"),
    )
