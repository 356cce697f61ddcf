"""The ``gbm`` model type: a gradient-boosted ensemble of shallow trees, stored as JSON data.

A document (see the package README) holds ``init`` (the starting log-odds), a
``learning_rate``, ``trees`` (each a list of ``nodes``: splits ``{feature, threshold, left,
right, missing?}`` and leaves ``{leaf}``), an optional ``scaling`` (base score, base odds,
PDO) and optional ``bands``. Evaluation is plain Python over the document: nothing is
unpickled or executed, so a document is as safe to accept as any other JSON.

The probability is of paying (a propensity model): ``p = 1 / (1 + e^−margin)`` with
``margin = init + learning_rate · Σ leaves``; the score scales the odds ``p / (1 − p)`` like a
scorecard's: ``score = offset + factor·ln(odds)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from almacen.modules.scoring.model_types import FeatureError, Missing, ScoreResult

__all__ = ["GBM", "MAX_NODES", "MAX_TREES", "GradientBoostedModel"]

#: Limits that keep one document's evaluation cheap (a request scores up to 10,000 records).
MAX_TREES = 500
MAX_NODES = 63  # a full tree of depth 5
#: At most this many reason codes per record.
REASONS = 4
DEFAULT_SCALING = {"base_score": 600, "base_odds": 50, "pdo": 20}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class GradientBoostedModel:
    """The ``gbm`` model type (see the module docstring for the document)."""

    name = "gbm"

    # -- validation ----------------------------------------------------------------------

    def validate(self, document: Mapping[str, Any]) -> list[dict[str, str]]:
        """Every fault of a document, each ``{"pointer", "detail"}``; empty when valid."""
        faults: list[dict[str, str]] = []

        def fault(pointer: str, detail: str) -> None:
            faults.append({"pointer": pointer, "detail": detail})

        if not _number(document.get("init", 0)):
            fault("/init", "must be a number (the starting log-odds)")
        rate = document.get("learning_rate", 1)
        if not _number(rate) or rate <= 0:
            fault("/learning_rate", "must be a positive number")
        trees = document.get("trees")
        if not isinstance(trees, list) or not trees:
            fault("/trees", "must be a non-empty list of trees")
            trees = []
        elif len(trees) > MAX_TREES:
            fault("/trees", f"at most {MAX_TREES} trees")
        for t, tree in enumerate(trees):
            faults += self._tree_faults(tree, f"/trees/{t}")
        scaling = document.get("scaling", DEFAULT_SCALING)
        if not isinstance(scaling, Mapping) or set(scaling) != set(DEFAULT_SCALING):
            fault("/scaling", "must be {base_score, base_odds, pdo}")
        else:
            for key in DEFAULT_SCALING:
                if not _number(scaling[key]) or (key != "base_score" and scaling[key] <= 0):
                    fault(f"/scaling/{key}", "must be a number (base_odds and pdo positive)")
        bands = document.get("bands", [])
        if not isinstance(bands, list):
            fault("/bands", "must be a list of {grade, min_score}")
            bands = []
        for b, band in enumerate(bands):
            if not isinstance(band, Mapping) or not isinstance(band.get("grade"), str):
                fault(f"/bands/{b}", "must be {grade, min_score}")
            elif band.get("min_score") is not None and not _number(band["min_score"]):
                fault(f"/bands/{b}/min_score", "must be a number, or null for the lowest band")
        return faults

    def _tree_faults(self, tree: Any, at: str) -> list[dict[str, str]]:
        nodes = tree.get("nodes") if isinstance(tree, Mapping) else None
        if not isinstance(nodes, list) or not nodes:
            return [{"pointer": f"{at}/nodes", "detail": "must be a non-empty list of nodes"}]
        if len(nodes) > MAX_NODES:
            return [{"pointer": f"{at}/nodes", "detail": f"at most {MAX_NODES} nodes a tree"}]
        faults = []
        for n, node in enumerate(nodes):
            where = f"{at}/nodes/{n}"
            if not isinstance(node, Mapping):
                faults.append({"pointer": where, "detail": "must be a split or a leaf"})
            elif "leaf" in node:
                if not _number(node["leaf"]) or set(node) != {"leaf"}:
                    faults.append({"pointer": f"{where}/leaf", "detail": "a leaf is {leaf: n}"})
            else:
                faults += self._split_faults(node, where, n, len(nodes))
        return faults

    @staticmethod
    def _split_faults(
        node: Mapping[str, Any], where: str, index: int, count: int
    ) -> list[dict[str, str]]:
        faults = []
        if not isinstance(node.get("feature"), str) or not node["feature"]:
            faults.append({"pointer": f"{where}/feature", "detail": "must name a feature"})
        if not _number(node.get("threshold")):
            faults.append({"pointer": f"{where}/threshold", "detail": "must be a number"})
        for side in ("left", "right"):
            child = node.get(side)
            # children after their parent: evaluation always moves forward, so never loops
            if not isinstance(child, int) or isinstance(child, bool) or not index < child < count:
                faults.append(
                    {
                        "pointer": f"{where}/{side}",
                        "detail": f"must be the index of a later node (after {index}, "
                        f"before {count})",
                    }
                )
        if node.get("missing", "left") not in ("left", "right"):
            faults.append({"pointer": f"{where}/missing", "detail": "must be left or right"})
        unknown = set(node) - {"feature", "threshold", "left", "right", "missing"}
        if unknown:
            faults.append({"pointer": where, "detail": f"unknown members {sorted(unknown)}"})
        return faults

    # -- scoring -------------------------------------------------------------------------

    def features(self, document: Mapping[str, Any]) -> list[str]:
        """The features the trees split on, sorted."""
        return sorted(
            {
                node["feature"]
                for tree in document["trees"]
                for node in tree["nodes"]
                if "feature" in node
            }
        )

    def score(
        self,
        document: Mapping[str, Any],
        records: Sequence[Mapping[str, Any]],
        *,
        missing: Missing,
    ) -> list[ScoreResult]:
        """Score each record's features with a valid document.

        :raises FeatureError: a feature the trees read is absent under ``reject``, or is not
            a number; every fault of every record is listed.
        """
        names = self.features(document)
        faults = [
            fault
            for index, record in enumerate(records)
            for fault in _feature_faults(index, record, names, missing)
        ]
        if faults:
            raise FeatureError(faults)
        scaling = document.get("scaling", DEFAULT_SCALING)
        factor = scaling["pdo"] / math.log(2)
        offset = scaling["base_score"] - factor * math.log(scaling["base_odds"])
        return [
            self._one(document, record, names, factor=factor, offset=offset) for record in records
        ]

    def _one(
        self,
        document: Mapping[str, Any],
        record: Mapping[str, Any],
        names: Sequence[str],
        *,
        factor: float,
        offset: float,
    ) -> ScoreResult:
        rate = float(document.get("learning_rate", 1))
        margin = float(document.get("init", 0))
        credit = dict.fromkeys(names, 0.0)
        bins: dict[str, str] = {}
        for tree in document["trees"]:
            leaf, path = _walk(tree["nodes"], record, bins)
            margin += rate * leaf
            for feature in path:
                credit[feature] += rate * leaf / len(path)
        # the logistic function, written to stay finite for any margin
        probability = (
            1 / (1 + math.exp(-margin))
            if margin >= 0
            else math.exp(margin) / (1 + math.exp(margin))
        )
        score = round(offset + factor * margin)  # ln(p / (1 − p)) is the margin itself
        worst = sorted((value, feature) for feature, value in credit.items() if value < 0)
        return {
            "score": score,
            "probability": probability,
            "band": _band(document.get("bands", []), score),
            "reasons": [feature for _, feature in worst[:REASONS]],
            "bins": {feature: bins.get(feature, "unused") for feature in names},
        }


def _feature_faults(
    index: int, record: Mapping[str, Any], names: Sequence[str], missing: Missing
) -> list[dict[str, Any]]:
    faults: list[dict[str, Any]] = []
    for name in names:
        value = record.get(name)
        if value is None:
            if missing == "reject":
                faults.append({"index": index, "feature": name, "detail": "is required"})
        elif not _number(value):
            faults.append({"index": index, "feature": name, "detail": "must be a number"})
    return faults


def _walk(
    nodes: Sequence[Mapping[str, Any]], record: Mapping[str, Any], bins: dict[str, str]
) -> tuple[float, list[str]]:
    """The leaf a record reaches and the features split on along the way.

    Records each feature's first split side in ``bins`` (for stability monitoring).
    """
    path: list[str] = []
    node = nodes[0]
    while "leaf" not in node:
        feature, threshold = node["feature"], node["threshold"]
        value = record.get(feature)
        if value is None:
            side = node.get("missing", "left")
            label = "missing"
        else:
            side = "left" if value < threshold else "right"
            label = f"<{threshold}" if side == "left" else f">={threshold}"
        bins.setdefault(feature, label)
        path.append(feature)
        node = nodes[node[side]]
    return float(node["leaf"]), path


def _band(bands: Sequence[Mapping[str, Any]], score: int) -> str | None:
    """The grade of the highest band whose ``min_score`` the score reaches."""
    floors = sorted(
        (band for band in bands if band.get("min_score") is not None),
        key=lambda band: band["min_score"],
        reverse=True,
    )
    for band in floors:
        if score >= band["min_score"]:
            return str(band["grade"])
    lowest = [band for band in bands if band.get("min_score") is None]
    return str(lowest[0]["grade"]) if lowest else None


#: The instance the plugin registers.
GBM = GradientBoostedModel()
