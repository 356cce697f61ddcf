"""Blueprint documents: their shape (marshmallow, the one source of truth) and their meaning.

:func:`parse_document` reads YAML or JSON; :func:`load_blueprint` checks the shape and builds a
:class:`Blueprint`; :func:`check_blueprint` checks what the shape cannot say against the
installed plugins and the tenant's subscriptions, collecting every fault with its JSON
pointer: unknown modules, actions, events and fields, modules the tenant does not subscribe
to, bad expressions, split weights, duplicate names, action inputs and module configuration.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..errors import BadRequestError, UnprocessableError, marshmallow_errors
from ..plugins import PluginRegistry
from .expressions import (
    ANY,
    FUNCTIONS,
    LEAF,
    Shape,
    check_expression,
    check_template,
    is_template,
    schema_shape,
)

__all__ = [
    "SERVICE_NAME",
    "Arm",
    "Blueprint",
    "BlueprintInvalidError",
    "Outcome",
    "Rule",
    "Step",
    "check_blueprint",
    "event_shape",
    "load_blueprint",
    "parse_document",
]

SERVICE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RULE_NAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,99}$",
    error="must be 1-100 lower-case letters, digits, - or _, starting with a letter or digit",
)
_ARM_NAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,62}$", error="must be 1-63 lower-case letters, digits, - or _"
)
_IDENTIFIER = validate.Regexp(
    r"^[a-z][a-z0-9_]{0,62}$", error="must be a lower-case identifier (letters, digits, _)"
)
#: Names expressions always have; lookups cannot take them.
RESERVED_NAMES = frozenset({"event", "steps", "True", "False", "None", *FUNCTIONS})


class BlueprintInvalidError(UnprocessableError):
    """Raised when a blueprint is refused; ``errors`` holds every fault and its pointer."""

    slug = "blueprint-invalid"
    title = "The service blueprint is invalid"


# -- the shape -----------------------------------------------------------------------------


class _StepSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(load_default=None, validate=_IDENTIFIER)
    action = fields.String(required=True, validate=validate.Length(min=1, max=100))
    input = fields.Dict(keys=fields.String(), load_default=dict)
    description = fields.String(load_default="")


class _LookupSchema(Schema):
    class Meta:
        unknown = RAISE

    action = fields.String(required=True, validate=validate.Length(min=1, max=100))
    input = fields.Dict(keys=fields.String(), load_default=dict)


class _ArmSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=_ARM_NAME)
    weight = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100))
    description = fields.String(load_default="")
    do = fields.List(fields.Nested(_StepSchema), required=True, validate=validate.Length(min=1))


class _RuleSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=_RULE_NAME)
    description = fields.String(load_default="")
    when = fields.String(required=True, validate=validate.Length(min=1, max=100))
    condition = fields.String(data_key="if", load_default=None)
    lookups = fields.Dict(
        data_key="with",
        keys=fields.String(validate=_IDENTIFIER),
        values=fields.Raw(),
        load_default=dict,
    )
    do = fields.List(fields.Nested(_StepSchema), load_default=None, validate=validate.Length(min=1))
    arms = fields.List(
        fields.Nested(_ArmSchema), load_default=None, validate=validate.Length(min=2)
    )

    @validates_schema
    def _do_or_arms(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("do") is None) == (data.get("arms") is None):
            raise ValidationError("a rule has either do (its actions) or arms (a split)", "do")


class _OutcomeSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=_IDENTIFIER)
    event = fields.String(required=True, validate=validate.Length(min=1, max=100))
    sum = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$", error="must be a dotted field path"
        ),
    )


class _BlueprintSchema(Schema):
    class Meta:
        unknown = RAISE

    service = fields.String(load_default=None)
    description = fields.String(load_default="")
    modules = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    outcomes = fields.List(fields.Nested(_OutcomeSchema), load_default=list)
    rules = fields.List(fields.Nested(_RuleSchema), required=True, validate=validate.Length(min=1))


class _ModuleUseSchema(Schema):
    class Meta:
        unknown = RAISE

    config = fields.Dict(keys=fields.String(), load_default=None)


# -- the loaded form -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Step:
    """An action call: a lookup (``with``) or an action of ``do``."""

    action: str
    input: dict[str, Any]
    name: str | None = None


@dataclasses.dataclass(frozen=True)
class Arm:
    """One side of a split: its name, weight (percent) and actions."""

    name: str
    weight: int
    do: tuple[Step, ...]


@dataclasses.dataclass(frozen=True)
class Rule:
    """*when* an event, *if* a condition, *do* actions (or split subjects between arms)."""

    name: str
    when: str
    condition: str | None
    lookups: tuple[Step, ...]
    do: tuple[Step, ...] | None
    arms: tuple[Arm, ...] | None

    @property
    def champion(self) -> str | None:
        """The first arm, which challengers are compared with."""
        return self.arms[0].name if self.arms else None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What an experiment measures: subjects with an event, or a sum over those events."""

    name: str
    event: str
    sum: str | None = None


@dataclasses.dataclass(frozen=True)
class Blueprint:
    """A loaded blueprint document."""

    description: str
    modules: dict[str, dict[str, Any] | None]
    outcomes: tuple[Outcome, ...]
    rules: tuple[Rule, ...]
    service: str | None = None


def parse_document(raw: bytes | str) -> Any:
    """A YAML (or JSON, which is YAML) document. :raises BadRequestError: when unreadable."""
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        position = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise BadRequestError(
            f"The blueprint is not valid YAML or JSON{position}: {problem}",
            errors=[{"pointer": "", "detail": f"not YAML{position}: {problem}"}],
        ) from None


def load_blueprint(document: Any) -> tuple[Blueprint | None, list[dict[str, str]]]:
    """Check the document's shape; return the blueprint (None when the shape is wrong) and
    the shape's faults, each with its JSON pointer."""
    if not isinstance(document, Mapping):
        return None, [{"pointer": "", "detail": "a blueprint is a mapping (an object)"}]
    try:
        data = _BlueprintSchema().load(document)
    except ValidationError as exc:
        errors = marshmallow_errors(exc.messages)
        errors += _nested_faults(document)
        return None, errors
    errors = _nested_faults(document)
    if errors:
        return None, errors
    modules = {
        name: _ModuleUseSchema().load(use or {})["config"] for name, use in data["modules"].items()
    }
    rules = tuple(_rule(rule) for rule in data["rules"])
    outcomes = tuple(Outcome(o["name"], o["event"], o["sum"]) for o in data["outcomes"])
    blueprint = Blueprint(
        description=data["description"],
        modules=modules,
        outcomes=outcomes,
        rules=rules,
        service=data["service"],
    )
    return blueprint, []


def _nested_faults(document: Mapping[str, Any]) -> list[dict[str, str]]:
    """Faults of the mappings marshmallow's Dict cannot check: module uses and lookups."""
    errors: list[dict[str, str]] = []
    modules = document.get("modules")
    if isinstance(modules, Mapping):
        for name, use in modules.items():
            try:
                _ModuleUseSchema().load(use or {})
            except ValidationError as exc:
                errors += marshmallow_errors(exc.messages, f"/modules/{name}")
            except TypeError:
                errors.append({"pointer": f"/modules/{name}", "detail": "must be a mapping"})
    rules = document.get("rules")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            lookups = rule.get("with") if isinstance(rule, Mapping) else None
            if not isinstance(lookups, Mapping):
                continue
            for name, lookup in lookups.items():
                where = f"/rules/{index}/with/{name}"
                if not isinstance(lookup, Mapping):
                    errors.append({"pointer": where, "detail": "must be a mapping"})
                    continue
                try:
                    _LookupSchema().load(lookup)
                except ValidationError as exc:
                    errors += marshmallow_errors(exc.messages, where)
    return errors


def _step(data: Mapping[str, Any]) -> Step:
    return Step(action=data["action"], input=dict(data.get("input") or {}), name=data.get("name"))


def _rule(data: Mapping[str, Any]) -> Rule:
    lookups = tuple(
        Step(action=lookup["action"], input=dict(lookup.get("input") or {}), name=name)
        for name, lookup in data["lookups"].items()
    )
    arms = None
    if data["arms"] is not None:
        arms = tuple(
            Arm(arm["name"], arm["weight"], tuple(_step(s) for s in arm["do"]))
            for arm in data["arms"]
        )
    return Rule(
        name=data["name"],
        when=data["when"],
        condition=data["condition"],
        lookups=lookups,
        do=None if data["do"] is None else tuple(_step(s) for s in data["do"]),
        arms=arms,
    )


# -- the meaning ---------------------------------------------------------------------------


def event_shape(registry: PluginRegistry, event_type: str | None) -> dict[str, Shape]:
    """What ``event`` has in expressions of a rule on ``event_type``."""
    known = registry.event_types.get(event_type or "")
    return {
        "id": LEAF,
        "type": LEAF,
        "subject": {"type": LEAF, "id": LEAF},
        "payload": schema_shape(known.schema) if known is not None else ANY,
        "occurred_at": LEAF,
        "depth": LEAF,
    }


class _Checker:
    def __init__(
        self, registry: PluginRegistry, blueprint: Blueprint, subscribed: frozenset[str]
    ) -> None:
        self.registry = registry
        self.blueprint = blueprint
        self.subscribed = subscribed
        self.errors: list[dict[str, str]] = []

    def fault(self, pointer: str, detail: str) -> None:
        self.errors.append({"pointer": pointer, "detail": detail})

    def run(self, name: str) -> list[dict[str, str]]:
        blueprint = self.blueprint
        if blueprint.service is not None and blueprint.service != name:
            self.fault(
                "/service",
                f"the document names service {blueprint.service!r}, but it is applied as {name!r}",
            )
        for module, config in blueprint.modules.items():
            self.check_module(module, config)
        seen_outcomes: set[str] = set()
        for index, outcome in enumerate(blueprint.outcomes):
            where = f"/outcomes/{index}"
            if outcome.name in seen_outcomes:
                self.fault(f"{where}/name", f"outcome {outcome.name!r} is declared twice")
            seen_outcomes.add(outcome.name)
            event = self.registry.event_types.get(outcome.event)
            if event is None:
                self.fault(f"{where}/event", f"no installed module emits {outcome.event!r}")
            elif outcome.sum:
                problem = _path_fault(schema_shape(event.schema), outcome.sum.split("."))
                if problem:
                    self.fault(f"{where}/sum", f"{outcome.event} payload: {problem}")
        seen_rules: set[str] = set()
        for index, rule in enumerate(blueprint.rules):
            if rule.name in seen_rules:
                self.fault(f"/rules/{index}/name", f"rule {rule.name!r} is declared twice")
            seen_rules.add(rule.name)
            self.check_rule(f"/rules/{index}", rule)
        return self.errors

    def check_module(self, module: str, config: dict[str, Any] | None) -> None:
        where = f"/modules/{module}"
        installed = self.registry.modules.get(module)
        if installed is None:
            self.fault(where, f"module {module!r} is not installed")
            return
        if module not in self.subscribed:
            self.fault(where, f"the tenant does not subscribe to module {module!r}")
        if config is not None:
            try:
                installed.validate_config(dict(config))
            except ValidationError as exc:
                self.errors += [
                    {**e, "detail": f"{module} configuration: {e['detail']}"}
                    for e in marshmallow_errors(exc.messages, f"{where}/config")
                ]

    def check_uses(self, pointer: str, kind: str, name: str) -> None:
        """The module of an action or event must be installed and among the service's."""
        module = name.partition(".")[0]
        if module not in self.blueprint.modules:
            self.fault(
                pointer,
                f"{kind} {name!r} belongs to module {module!r}, which the "
                "service does not list under modules",
            )

    def check_rule(self, where: str, rule: Rule) -> None:
        event = self.registry.event_types.get(rule.when)
        if event is None:
            if rule.when.partition(".")[0] not in self.registry.modules:
                self.fault(f"{where}/when", f"no installed module emits {rule.when!r}")
            else:
                self.fault(
                    f"{where}/when",
                    f"module {rule.when.partition('.')[0]!r} has no event {rule.when!r}",
                )
        else:
            self.check_uses(f"{where}/when", "event", rule.when)
        names: dict[str, Shape] = {"event": event_shape(self.registry, rule.when)}
        for lookup in rule.lookups:
            assert lookup.name is not None
            at = f"{where}/with/{lookup.name}"
            if lookup.name in RESERVED_NAMES:
                self.fault(at, f"{lookup.name!r} is a reserved name")
            self.check_step(at, lookup, names)
            names[lookup.name] = self.output_shape(lookup.action)
        if rule.condition is not None:
            for fault in check_expression(rule.condition, names):
                self.fault(f"{where}/if", fault)
        if rule.do is not None:
            self.check_steps(f"{where}/do", rule.do, names)
        if rule.arms is not None:
            arm_names: set[str] = set()
            for index, arm in enumerate(rule.arms):
                if arm.name in arm_names:
                    self.fault(f"{where}/arms/{index}/name", f"arm {arm.name!r} is declared twice")
                arm_names.add(arm.name)
                self.check_steps(f"{where}/arms/{index}/do", arm.do, names)
            total = sum(arm.weight for arm in rule.arms)
            if total != 100:
                self.fault(f"{where}/arms", f"arm weights add up to {total}, not 100")

    def check_steps(self, where: str, steps: tuple[Step, ...], names: dict[str, Shape]) -> None:
        outputs: dict[str, Shape] = {}
        for index, step in enumerate(steps):
            scope = {**names, "steps": dict(outputs)}
            self.check_step(f"{where}/{index}", step, scope)
            if step.name is not None:
                if step.name in outputs:
                    self.fault(f"{where}/{index}/name", f"step {step.name!r} is declared twice")
                outputs[step.name] = self.output_shape(step.action)

    def output_shape(self, action: str) -> Shape:
        known = self.registry.actions.get(action)
        return schema_shape(known.output_schema) if known is not None else ANY

    def check_step(self, where: str, step: Step, names: Mapping[str, Shape]) -> None:
        action = self.registry.actions.get(step.action)
        module = step.action.partition(".")[0]
        if action is None:
            if module not in self.registry.modules:
                self.fault(f"{where}/action", f"no installed module provides {step.action!r}")
            else:
                self.fault(f"{where}/action", f"module {module!r} has no action {step.action!r}")
        else:
            self.check_uses(f"{where}/action", "action", step.action)
        for suffix, fault in check_template(step.input, names):
            self.fault(f"{where}/input{suffix}", fault)
        if action is None:
            return
        # Literal parts must pass the input schema now; templated ones are checked per run.
        schema = action.input_schema()
        known = {field.data_key or key: field for key, field in schema.fields.items()}
        literal = {key: value for key, value in step.input.items() if not is_template(value)}
        try:
            schema.load(literal, partial=True)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, Mapping) else {"": exc.messages}
            for key, message in messages.items():
                pointer = f"{where}/input" + (f"/{key}" if key not in ("", "_schema") else "")
                for item in marshmallow_errors(message, pointer):
                    self.fault(item["pointer"], f"{step.action} input: {item['detail']}")
        for key, field in known.items():
            if field.required and key not in step.input:
                self.fault(
                    f"{where}/input/{key}", f"{step.action} input: missing required field {key!r}"
                )


def _path_fault(shape: Shape, keys: list[str]) -> str | None:
    path = ""
    for key in keys:
        if shape is ANY:
            return None
        if shape is LEAF or not isinstance(shape, dict) or key not in shape:
            return f"no field {(path + '.' + key).lstrip('.')!r}"
        shape = shape[key]
        path = f"{path}.{key}"
    return None


def check_blueprint(
    registry: PluginRegistry, name: str, document: Any, subscribed: frozenset[str]
) -> tuple[Blueprint | None, list[dict[str, str]]]:
    """Every fault of ``document`` applied as service ``name`` for a tenant subscribing to
    ``subscribed``: the shape first, then (when the shape holds) the meaning."""
    blueprint, errors = load_blueprint(document)
    if blueprint is None:
        return None, errors
    errors = _Checker(registry, blueprint, subscribed).run(name)
    return (None, errors) if errors else (blueprint, [])
