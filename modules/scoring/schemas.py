"""Marshmallow schemas of the model registry and the scoring engine: the scorecard document
(one source of truth for its shape; semantics are checked in :mod:`.scorecard`), model
versions as the API shows them, and the ``scoring.score`` action's input and output.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

__all__ = [
    "BandSchema",
    "BinSchema",
    "CharacteristicSchema",
    "ModelSchema",
    "ScaleSchema",
    "ScoreActionInputSchema",
    "ScoreActionOutputSchema",
    "ScoreManyInputSchema",
    "ScoreManyOutputSchema",
    "ScorecardSchema",
]

PURPOSES = ("risk", "propensity")
_ID = validate.Regexp(r"^[0-9a-f]{32}$")
_NAME = validate.Length(min=1, max=100)
_POINTS = fields.Float(required=True, allow_nan=False)


class BinSchema(Schema):
    """A bin: a numeric interval ``[lower, upper)`` (None is unbounded) or category group."""

    lower = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    upper = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    categories = fields.List(fields.String(validate=validate.Length(min=1)), load_default=None)
    points = fields.Float(required=True, allow_nan=False)
    #: How the bin is reported (``bins`` of a result); default ``[lower, upper)`` or the list.
    label = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class CharacteristicSchema(Schema):
    """A characteristic: the feature it reads, its bins and the points of each."""

    name = fields.String(required=True, validate=_NAME)
    kind = fields.String(required=True, validate=validate.OneOf(["numeric", "categorical"]))
    bins = fields.List(fields.Nested(BinSchema), required=True, validate=validate.Length(min=1))
    #: Points of a record without the feature; default the lowest points of the bins (a
    #: missing value never scores better than the worst bin).
    missing_points = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    #: A category of no group (categorical only): these points, or else like a missing value.
    other_points = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    #: The code reported when this characteristic is a reason (default its name).
    reason_code = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


class ScaleSchema(Schema):
    """Points to odds: ``score = offset + factor·ln(odds)``, ``factor = pdo / ln 2``."""

    base_score = fields.Float(required=True, allow_nan=False)
    base_odds = fields.Float(
        required=True, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False)
    )
    pdo = fields.Float(
        required=True, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False)
    )


class BandSchema(Schema):
    """A grade and the lowest score in it (None on the last band: everything below)."""

    grade = fields.String(required=True, validate=validate.Length(min=1, max=20))
    min_score = fields.Float(load_default=None, allow_none=True, allow_nan=False)


class ScoreBaselineSchema(Schema):
    """Score bins of the training population: inner edges and each bin's share."""

    edges = fields.List(fields.Float(allow_nan=False), required=True)
    shares = fields.List(
        fields.Float(allow_nan=False, validate=validate.Range(min=0)), required=True
    )


class BaselineSchema(Schema):
    """The training population's distribution, what monitoring compares a window with."""

    score = fields.Nested(ScoreBaselineSchema, required=True)
    #: Characteristic → bin label → share, with the labels score records carry.
    characteristics = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Float(allow_nan=False)),
        load_default=dict,
    )


class ScorecardSchema(Schema):
    """A scorecard document (``type: scorecard``)."""

    type = fields.String(required=True, validate=validate.Equal("scorecard"))
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES))
    #: Overrides the tenant's ``missing`` setting for this model.
    missing = fields.String(load_default=None, validate=validate.OneOf(["bin", "reject"]))
    #: Points every record starts with (an intercept spread out, or 0).
    base_points = fields.Float(load_default=0.0, allow_nan=False)
    scaling = fields.Nested(ScaleSchema, required=True)
    characteristics = fields.List(
        fields.Nested(CharacteristicSchema), required=True, validate=validate.Length(min=1)
    )
    bands = fields.List(fields.Nested(BandSchema), load_default=list)
    description = fields.String(load_default=None)
    #: Written by training; monitoring's default reference (see :mod:`.monitoring`).
    baseline = fields.Nested(BaselineSchema, load_default=None, allow_none=True)


class ModelSchema(Schema):
    """A model version as the API shows it."""

    id = fields.String()
    name = fields.String()
    version = fields.Integer()
    purpose = fields.String()
    type = fields.String()
    status = fields.String()
    role = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    document = fields.Dict()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    activated_at = fields.AwareDateTime(allow_none=True)
    retired_at = fields.AwareDateTime(allow_none=True)


class ModelRefSchema(Schema):
    """Which model version gave a score."""

    id = fields.String()
    name = fields.String()
    version = fields.Integer()
    purpose = fields.String()
    role = fields.String(allow_none=True)


class ScoreActionInputSchema(Schema):
    """Input of ``scoring.score``: a model (id, or the champion of a purpose) and one record.

    The record's features come in ``features``, or from the ledger when ``account_id`` is
    given (the given features win over the ledger's).
    """

    model_id = fields.String(load_default=None, validate=_ID)
    purpose = fields.String(load_default=None, validate=validate.OneOf(PURPOSES))
    account_id = fields.String(load_default=None, validate=_ID)
    features = fields.Dict(keys=fields.String(), load_default=None)
    record = fields.Boolean(load_default=True)

    @validates_schema
    def _one_model(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("model_id") is None) == (data.get("purpose") is None):
            raise ValidationError("give model_id or purpose (its champion), not both", "model_id")
        if data.get("account_id") is None and data.get("features") is None:
            raise ValidationError("give features, or an account_id to read them", "features")


class ScoreActionOutputSchema(Schema):
    """Output of ``scoring.score``."""

    score = fields.Integer()
    probability = fields.Float()
    band = fields.String(allow_none=True)
    reasons = fields.List(fields.String())
    bins = fields.Dict(keys=fields.String(), values=fields.String())
    model = fields.Nested(ModelRefSchema)


class ScoreManyItemSchema(Schema):
    """One record of ``scoring.score_many``: features, or an account to read them for."""

    account_id = fields.String(load_default=None, validate=_ID)
    features = fields.Dict(keys=fields.String(), load_default=None)

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("account_id") is None and data.get("features") is None:
            raise ValidationError("give features, or an account_id to read them", "features")


class ScoreManyInputSchema(Schema):
    """Input of ``scoring.score_many``: one model and up to 10,000 records scored together."""

    model_id = fields.String(load_default=None, validate=_ID)
    purpose = fields.String(load_default=None, validate=validate.OneOf(PURPOSES))
    items = fields.List(
        fields.Nested(ScoreManyItemSchema), required=True, validate=validate.Length(1, 10_000)
    )
    record = fields.Boolean(load_default=True)

    @validates_schema
    def _one_model(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("model_id") is None) == (data.get("purpose") is None):
            raise ValidationError("give model_id or purpose (its champion), not both", "model_id")


class ScoreManyResultSchema(Schema):
    """One record's score in ``scoring.score_many``, in the input's order."""

    account_id = fields.String(allow_none=True)
    score = fields.Integer()
    probability = fields.Float()
    band = fields.String(allow_none=True)
    reasons = fields.List(fields.String())
    bins = fields.Dict(keys=fields.String(), values=fields.String())


class ScoreManyOutputSchema(Schema):
    """Output of ``scoring.score_many``: the model version and one result per record."""

    model = fields.Nested(ModelRefSchema)
    items = fields.List(fields.Nested(ScoreManyResultSchema))
