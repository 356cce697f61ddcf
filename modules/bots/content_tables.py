"""Tables of a tenant's own content: template overrides, training examples, trained models."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["TemplateOverride", "TrainedModel", "TrainingExample"]


class TemplateOverride(TenantScoped, Base):
    """A tenant's text for one response key in one locale (a sandboxed Jinja2 template)."""

    __tablename__ = "bots_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "locale", "key", name="uq_bots_templates_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    locale: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrainingExample(TenantScoped, Base):
    """One example sentence a tenant adds to an intent, used at the next retraining."""

    __tablename__ = "bots_training_examples"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    intent: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrainedModel(TenantScoped, Base):
    """A tenant's retrained intent classifier (the newest version is used)."""

    __tablename__ = "bots_models"
    __table_args__ = (UniqueConstraint("tenant_id", "version", name="uq_bots_models_version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer)
    examples: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
