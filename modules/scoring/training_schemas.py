"""Marshmallow schemas of the training resources as the API shows them."""

from __future__ import annotations

from marshmallow import Schema, fields

__all__ = ["DatasetSchema", "TrainingJobSchema"]


class DatasetColumnSchema(Schema):
    """A characteristic of a data set and its kind."""

    name = fields.String()
    kind = fields.String()


class DatasetSchema(Schema):
    """A stored data set: its shape, never its rows."""

    id = fields.String()
    name = fields.String()
    format = fields.String()
    rows = fields.Integer()
    target = fields.String()
    event = fields.String()
    events = fields.Integer()
    columns = fields.List(fields.Nested(DatasetColumnSchema))
    created_at = fields.AwareDateTime()


class TrainingJobSchema(Schema):
    """A training job: status, progress, and once it succeeded the report and the draft."""

    id = fields.String()
    dataset_id = fields.String()
    name = fields.String()
    purpose = fields.String()
    options = fields.Dict()
    status = fields.String()
    progress = fields.Integer()
    stage = fields.String()
    report = fields.Dict(allow_none=True)
    document = fields.Dict(allow_none=True)
    model_id = fields.String(allow_none=True)
    errors = fields.List(fields.Dict())
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
