"""``almacen bots``: commands of the bots module (``evaluate``: the NLU cross-validation)."""

from __future__ import annotations

import time

import click

__all__ = ["bots"]


@click.group()
def bots() -> None:
    """The bots module: evaluate its understanding of Spanish and English."""


@bots.command()
@click.option("--folds", default=5, show_default=True, type=click.IntRange(min=2, max=20))
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the fold split.")
@click.option(
    "--goal",
    default=0.90,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Macro F1 each language must reach; below it the command exits 1.",
)
@click.option("--misses", is_flag=True, help="Also list every misclassified example.")
def evaluate(folds: int, seed: int, goal: float, misses: bool) -> None:
    """Cross-validate the intent classifier on the shipped training set.

    Prints accuracy, macro F1 and the confusion matrix per language.
    """
    from .nlu.evaluation import cross_validate

    started = time.perf_counter()
    report = cross_validate(folds=folds, seed=seed)
    click.echo(report.format(misses=misses))
    elapsed = time.perf_counter() - started
    verdict = "passed" if report.passed(goal) else "FAILED"
    click.echo(f"\ngoal macro F1 >= {goal:.2f} in each language: {verdict} ({elapsed:.0f} s)")
    if not report.passed(goal):
        raise click.ClickException(f"macro F1 below {goal:.2f} in some language")
