"""Cross-validation of the intent classifier on a training set, per language.

Folds are stratified by intent and language together, so each fold holds out the same share
of every intent in every language; one classifier is trained per fold on both languages (as
the bot's is) and scored on each language's held-out examples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold

from .classifier import train_classifier
from .language import LANGUAGES
from .training import shipped_examples

__all__ = ["GOAL_MACRO_F1", "EvaluationReport", "LanguageReport", "cross_validate"]

#: The acceptance goal: macro F1 at least this in each language.
GOAL_MACRO_F1 = 0.90


@dataclass(frozen=True)
class LanguageReport:
    """Scores of one language's held-out predictions."""

    language: str
    examples: int
    accuracy: float
    macro_f1: float
    labels: tuple[str, ...]
    #: rows are the true intents, columns the predicted ones, both in ``labels`` order.
    confusion: tuple[tuple[int, ...], ...]
    #: (text, true intent, predicted intent) of each miss.
    misses: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class EvaluationReport:
    """The per-language reports of one cross-validation."""

    folds: int
    languages: tuple[LanguageReport, ...]

    def passed(self, goal: float = GOAL_MACRO_F1) -> bool:
        """Whether every language reaches ``goal`` macro F1."""
        return all(report.macro_f1 >= goal for report in self.languages)

    def format(self, *, misses: bool = False) -> str:
        """The report as text: accuracy, macro F1 and the confusion matrix per language."""
        lines = [f"stratified {self.folds}-fold cross-validation"]
        for report in self.languages:
            lines += [
                "",
                f"[{report.language}] {report.examples} examples  "
                f"accuracy {report.accuracy:.3f}  macro F1 {report.macro_f1:.3f}",
                "confusion matrix (rows: true intent; columns: predicted, numbered as the rows)",
            ]
            width = max(len(label) for label in report.labels)
            header = " " * (width + 5) + "".join(f"{i:>4}" for i in range(len(report.labels)))
            lines.append(header)
            for i, (label, row) in enumerate(zip(report.labels, report.confusion, strict=True)):
                cells = "".join(f"{n:>4}" if n else "   ." for n in row)
                lines.append(f"{i:>3}  {label:<{width}}{cells}")
            if misses:
                lines += [f"  miss: {t!r} {want} -> {got}" for t, want, got in report.misses]
        return "\n".join(lines)


def cross_validate(
    examples: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    *,
    folds: int = 5,
    seed: int = 7,
    languages: Sequence[str] = LANGUAGES,
) -> EvaluationReport:
    """Stratified ``folds``-fold cross-validation; the shipped examples when none are given.

    ``ValueError`` when some intent has fewer examples in a language than there are folds.
    """
    examples = shipped_examples() if examples is None else examples
    rows = [
        (text, intent, language)
        for intent, by_language in examples.items()
        for language, texts in by_language.items()
        for text in texts
    ]
    strata = [f"{intent}/{language}" for _, intent, language in rows]
    predicted: list[str] = [""] * len(rows)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(rows, strata):
        training: dict[str, dict[str, list[str]]] = {}
        for index in train:
            text, intent, language = rows[index]
            training.setdefault(intent, {}).setdefault(language, []).append(text)
        classifier = train_classifier(training)
        for index, ranked in zip(
            test, classifier.predict_many([rows[i][0] for i in test]), strict=True
        ):
            predicted[index] = ranked[0][0]
    reports = []
    for language in languages:
        indices = [i for i, row in enumerate(rows) if row[2] == language]
        truth = [rows[i][1] for i in indices]
        guess = [predicted[i] for i in indices]
        labels = sorted(set(truth) | set(guess))
        matrix = confusion_matrix(truth, guess, labels=labels)
        reports.append(
            LanguageReport(
                language=language,
                examples=len(indices),
                accuracy=float(accuracy_score(truth, guess)),
                macro_f1=float(f1_score(truth, guess, labels=labels, average="macro")),
                labels=tuple(labels),
                confusion=tuple(tuple(int(n) for n in row) for row in matrix),
                misses=tuple(
                    (rows[i][0], rows[i][1], predicted[i])
                    for i in indices
                    if predicted[i] != rows[i][1]
                ),
            )
        )
    return EvaluationReport(folds=folds, languages=tuple(reports))
