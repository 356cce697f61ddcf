"""``almacen bots evaluate``: the cross-validation meets its goal, and the command that runs it
is added to ``almacen`` through the ``almacen_register_commands`` hook."""

from __future__ import annotations

import re
from collections.abc import Iterable

import click
import pytest

from almacen import hookimpl
from almacen.gateway.cli import add_plugin_commands, cli, main
from almacen.gateway.plugins import registry_from
from almacen.modules.bots.nlu.evaluation import GOAL_MACRO_F1, cross_validate

# Slow (cross-validations) and independent of the database: the SQLite pass only.
pytestmark = pytest.mark.once


def test_the_shipped_set_meets_the_goal_in_five_folds(capsys: pytest.CaptureFixture[str]) -> None:
    # The acceptance run, end to end through the command line (about 20 s).
    status = main(["bots", "evaluate", "--folds", "5"])
    out = capsys.readouterr().out
    scores = dict(re.findall(r"^\[(es|en)\] .* macro F1 (\d\.\d+)$", out, re.MULTILINE))
    assert set(scores) == {"es", "en"}, out
    assert all(float(score) >= GOAL_MACRO_F1 for score in scores.values()), scores
    assert "confusion matrix" in out
    assert status == 0


def test_a_set_that_cannot_be_learnt_fails_the_goal() -> None:
    # Two "intents" of interchangeable sentences: no classifier tells them apart.
    words = ["hola", "pago", "cuenta", "lunes", "plata", "banco", "cuota", "saldo", "mes", "dia"]
    a = [f"{w} {v}" for w in words for v in words[:3]]
    b = [f"{v} {w}" for w in words for v in words[:3]]
    examples = {"a": {"es": a[::2] + b[1::2]}, "b": {"es": b[::2] + a[1::2]}}
    report = cross_validate(examples, folds=3, languages=["es"])
    (spanish,) = report.languages
    assert spanish.examples == 60
    assert sum(sum(row) for row in spanish.confusion) == 60
    assert spanish.macro_f1 < GOAL_MACRO_F1
    assert not report.passed()
    assert "macro F1" in report.format()


def test_evaluate_exits_1_below_the_goal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bots", "evaluate", "--folds", "2", "--goal", "1.0"]) == 1
    assert "FAILED" in capsys.readouterr().out


# -- the hook ------------------------------------------------------------------------------


@click.command("hello-plugin")
def hello() -> None:
    """Say hello."""
    click.echo("hello from a plugin")


class CommandsPlugin:
    @staticmethod
    @hookimpl
    def almacen_register_commands() -> Iterable[click.Command]:
        return [hello, click.Command("serve"), "not a command"]  # type: ignore[list-item]


class BrokenPlugin:
    @staticmethod
    @hookimpl
    def almacen_register_commands() -> Iterable[click.Command]:
        raise RuntimeError("boom")


def test_hook_almacen_register_commands(capsys: pytest.CaptureFixture[str]) -> None:
    registry = registry_from(
        load_entrypoints=False, extra=[("commands", CommandsPlugin), ("broken", BrokenPlugin)]
    )
    group = click.Group("almacen", commands={"serve": click.Command("serve")})
    warnings = add_plugin_commands(group, registry)
    assert group.commands["hello-plugin"] is hello
    assert group.commands["serve"].name == "serve"  # the gateway's own stays
    assert any("'serve' is taken" in w for w in warnings)
    assert any("not a named click command" in w for w in warnings)
    assert any("broken" in w and "boom" in w for w in warnings)
    # Added once, however often it is asked.
    assert add_plugin_commands(group, registry) == warnings
    assert list(group.commands).count("hello-plugin") == 1


def test_the_installed_bots_module_adds_its_command() -> None:
    assert main(["--help"]) == 0
    assert "bots" in cli.commands
    assert "evaluate" in getattr(cli.commands["bots"], "commands", {})
