"""Running blueprints: the event consumer that fires rules, and the dry run.

For each delivered event, every active service version's rules ``when`` that event type run
in order: lookups (``with``), the condition (``if``), the arm (for a split), then the actions
(``do``), each in :func:`~almacen.gateway.events.caused_by` so the events they emit carry the
service, rule, arm and depth. What happened is one :class:`RuleRun` per event, service and
rule: a redelivered event finds its runs and does nothing twice.

Failures: an action the tenant cannot run, an input its schema refuses, any other 4xx error
of a module, or an expression that cannot be evaluated, will fail again on every retry. The
rule's writes are rolled back and the run is recorded as ``failed`` with the error; the
event is delivered. Anything else (a database error, a bug) raises: the dispatcher rolls the
consumer back and retries the event later.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..actions import find_action, run_action
from ..db import utcnow
from ..errors import AlmacenError, marshmallow_errors
from ..events import Causation, Event, caused_by, session_memo
from .blueprint import Blueprint, Rule, Step, load_blueprint
from .expressions import ExpressionError, evaluate, render, template_parts, to_json
from .models import ExperimentAssignment, RuleRun, Service, ServiceVersion

if TYPE_CHECKING:
    from ..plugins import PluginRegistry
    from ..settings import Settings

__all__ = ["SampleEvent", "active_blueprints", "assign_bucket", "handle_event", "simulate"]

logger = logging.getLogger("almacen.services")

#: Loaded blueprints by version row id (documents never change once stored).
_LOADED: dict[str, Blueprint] = {}
_LOADED_MAX = 1024


class _RuleFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def blueprint_of(version: ServiceVersion) -> Blueprint:
    """The loaded blueprint of a stored version (cached)."""
    cached = _LOADED.get(version.id)
    if cached is None:
        cached, errors = load_blueprint(version.document)
        if cached is None:  # stored documents were checked when applied
            raise ValueError(f"stored blueprint {version.service} v{version.version}: {errors}")
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.clear()
        _LOADED[version.id] = cached
    return cached


def active_blueprints(session: Session) -> list[tuple[str, int, Blueprint]]:
    """(service, version, blueprint) of the session tenant's active services, by name."""
    rows = session.execute(
        select(ServiceVersion)
        .join(
            Service,
            (Service.tenant_id == ServiceVersion.tenant_id)
            & (Service.name == ServiceVersion.service)
            & (Service.active_version == ServiceVersion.version),
        )
        .where(Service.status == "active")
        .order_by(Service.name)
    ).scalars()
    return [(row.service, row.version, blueprint_of(row)) for row in rows]


def assign_bucket(service: str, experiment: str, subject_type: str, subject_id: str) -> int:
    """A subject's bucket in [0, 100): the same subject always lands in the same bucket."""
    key = "\x1f".join((service, experiment, subject_type, subject_id)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 100


def arm_for_bucket(rule: Rule, bucket: int) -> str:
    """The arm whose cumulative weight range holds ``bucket``."""
    assert rule.arms
    cumulative = 0
    for arm in rule.arms:
        cumulative += arm.weight
        if bucket < cumulative:
            return arm.name
    return rule.arms[-1].name


def _event_names(event: Event | SampleEvent) -> dict[str, Any]:
    return {
        "event": {
            "id": event.id,
            "type": event.type,
            "subject": event.subject,
            "payload": event.payload,
            "occurred_at": event.occurred_at.isoformat(),
            "depth": event.depth,
        }
    }


def _permanent(exc: BaseException) -> str | None:
    """Why retrying cannot help, or None when it might."""
    if isinstance(exc, ExpressionError):
        return f"expression: {exc}"
    if isinstance(exc, AlmacenError) and exc.status < 500:
        detail = exc.detail
        if exc.errors:
            detail += ": " + "; ".join(
                f"{e.get('pointer', '')} {e.get('detail', '')}".strip() for e in exc.errors[:5]
            )
        return f"{exc.slug}: {detail}"
    return None


# -- the consumer ----------------------------------------------------------------------------


def handle_event(session: Session, event: Event, settings: Settings) -> None:
    """Run every active rule ``when`` this event's type (see the module's docstring)."""
    registry: PluginRegistry = session.info["registry"]
    # Read (and parsed) once per delivery batch and tenant, not once per event.
    active = session_memo(session, "services.active", lambda: active_blueprints(session))
    for service, version, blueprint in active:
        for rule in blueprint.rules:
            if rule.when != event.type:
                continue
            done = session.scalar(
                select(RuleRun.id).where(
                    RuleRun.event_id == event.id,
                    RuleRun.service == service,
                    RuleRun.rule == rule.name,
                )
            )
            if done is not None:
                continue
            run = RuleRun(
                event_id=event.id,
                event_type=event.type,
                subject_type=event.subject_type,
                subject_id=event.subject_id,
                service=service,
                version=version,
                rule=rule.name,
                depth=event.depth,
                steps=[],
            )
            if event.depth >= settings.rule_depth_limit:
                run.outcome = "skipped"
                run.reason = (
                    f"depth limit: the event is {event.depth} rule firings deep "
                    f"(rule_depth_limit = {settings.rule_depth_limit})"
                )
                logger.warning("rule %s/%s skipped: %s", service, rule.name, run.reason)
            else:
                _run_rule(session, registry, event, service, rule, run)
            session.add(run)
            session.flush()


def _run_rule(
    session: Session, registry: PluginRegistry, event: Event, service: str, rule: Rule, run: RuleRun
) -> None:
    steps: list[dict[str, Any]] = []
    savepoint = session.begin_nested()
    try:
        causation = Causation(event.id, service, rule.name, None, event.depth + 1)
        with caused_by(session, causation):
            names = _event_names(event)
            for lookup in rule.lookups:
                names[lookup.name or ""] = _call(session, registry, lookup, names, steps, "lookup")
            if rule.condition is not None and not evaluate(rule.condition, names):
                run.outcome = "skipped"
                run.reason = "condition is false"
                run.steps = steps
                savepoint.rollback()
                return
            arm, todo = _choose_arm(session, service, rule, event, record=True)
        run.arm = arm
        with caused_by(session, dataclasses.replace(causation, arm=arm)):
            outputs: dict[str, Any] = {}
            for step in todo:
                output = _call(
                    session, registry, step, {**names, "steps": outputs}, steps, "action"
                )
                if step.name:
                    outputs[step.name] = output
        savepoint.commit()
        run.outcome = "fired"
    except Exception as exc:
        reason = _permanent(exc)
        savepoint.rollback()
        if reason is None:
            raise
        run.outcome = "failed"
        run.reason = reason
        logger.warning("rule %s/%s failed on event %s: %s", service, rule.name, event.id, reason)
    run.steps = steps


def _call(
    session: Session,
    registry: PluginRegistry,
    step: Step,
    names: Mapping[str, Any],
    record: list[dict[str, Any]],
    kind: str,
) -> Any:
    entry: dict[str, Any] = {"kind": kind, "name": step.name, "action": step.action}
    record.append(entry)
    try:
        data = render(step.input, names)
        entry["input"] = data
        entry["output"] = run_action(session, step.action, data, registry=registry)
    except Exception as exc:
        entry["error"] = _permanent(exc) or type(exc).__name__
        raise
    return entry["output"]


def _choose_arm(
    session: Session, service: str, rule: Rule, event: Event | SampleEvent, *, record: bool
) -> tuple[str | None, Sequence[Step]]:
    """The subject's arm (stored on first assignment when ``record``) and its actions."""
    if not rule.arms:
        return None, rule.do or ()
    arms = {arm.name: arm for arm in rule.arms}
    if event.subject_type is None or event.subject_id is None:
        # No subject to keep an assignment for: split by event.
        name = arm_for_bucket(rule, assign_bucket(service, rule.name, "event", event.id))
        return name, arms[name].do
    lookup = select(ExperimentAssignment).where(
        ExperimentAssignment.service == service,
        ExperimentAssignment.experiment == rule.name,
        ExperimentAssignment.subject_type == event.subject_type,
        ExperimentAssignment.subject_id == event.subject_id,
    )
    stored = session.scalar(lookup)
    if stored is not None and stored.arm in arms:
        return stored.arm, arms[stored.arm].do
    bucket = assign_bucket(service, rule.name, event.subject_type, event.subject_id)
    name = arm_for_bucket(rule, bucket)
    if stored is None and record:
        try:
            with session.begin_nested():
                session.add(
                    ExperimentAssignment(
                        service=service,
                        experiment=rule.name,
                        subject_type=event.subject_type,
                        subject_id=event.subject_id,
                        arm=name,
                        assigned_at=utcnow(),
                    )
                )
                session.flush()
        except IntegrityError:  # assigned concurrently: keep the first assignment
            stored = session.scalar(lookup)
            if stored is not None and stored.arm in arms:
                name = stored.arm
    return name, arms[name].do


# -- the dry run -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SampleEvent:
    """An event given to :func:`simulate`: never stored."""

    type: str
    payload: dict[str, Any]
    subject_type: str | None = None
    subject_id: str | None = None
    id: str = "simulated"
    depth: int = 0
    occurred_at: Any = dataclasses.field(default_factory=utcnow)

    @property
    def subject(self) -> dict[str, str] | None:
        """``{"type", "id"}`` or None."""
        if self.subject_type is None or self.subject_id is None:
            return None
        return {"type": self.subject_type, "id": self.subject_id}


def simulate(
    session: Session,
    registry: PluginRegistry,
    service: str,
    version: int,
    blueprint: Blueprint,
    event: SampleEvent,
) -> list[dict[str, Any]]:
    """Which rules of ``blueprint`` fire for ``event`` and what they would run; nothing changes.

    Lookups run (they read), in a savepoint that is rolled back; actions do not run: their
    inputs are rendered and checked against their schemas.
    """
    results = []
    for rule in blueprint.rules:
        if rule.when != event.type:
            continue
        savepoint = session.begin_nested()
        try:
            results.append(_simulate_rule(session, registry, service, version, rule, event))
        finally:
            savepoint.rollback()
    return results


def _simulate_rule(
    session: Session,
    registry: PluginRegistry,
    service: str,
    version: int,
    rule: Rule,
    event: SampleEvent,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "rule": rule.name,
        "version": version,
        "fires": False,
        "reason": None,
        "arm": None,
        "lookups": {},
        "actions": [],
    }
    names = _event_names(event)
    try:
        for lookup in rule.lookups:
            data = render(lookup.input, names)
            output = run_action(session, lookup.action, data, registry=registry)
            names[lookup.name or ""] = output
            result["lookups"][lookup.name] = {
                "action": lookup.action,
                "input": data,
                "output": output,
            }
        if rule.condition is not None and not evaluate(rule.condition, names):
            result["reason"] = "condition is false"
            return result
    except Exception as exc:
        reason = _permanent(exc)
        if reason is None:
            raise
        result["reason"] = f"would fail: {reason}"
        return result
    arm, todo = _choose_arm(session, service, rule, event, record=False)
    result["fires"] = True
    result["arm"] = arm
    for step in todo:
        result["actions"].append(_would_run(session, registry, step, names))
    return result


def _would_run(
    session: Session, registry: PluginRegistry, step: Step, names: Mapping[str, Any]
) -> dict[str, Any]:
    """An action's rendered input, checked; fields that need earlier steps' outputs are left
    as their templates (those steps do not run in a dry run)."""
    entry: dict[str, Any] = {"action": step.action, "name": step.name, "input": {}, "errors": []}
    pending = []
    for key, value in step.input.items():
        if any(
            expression.strip().startswith("steps") or "steps." in expression
            for _suffix, expression in template_parts(value)
        ):
            entry["input"][key] = value
            pending.append(key)
            continue
        try:
            entry["input"][key] = render(value, names)
        except ExpressionError as exc:
            entry["errors"].append({"pointer": f"/{key}", "detail": str(exc)})
    entry["pending"] = pending
    try:
        action = find_action(registry, session, step.action)
    except AlmacenError as exc:
        entry["errors"].append({"pointer": "", "detail": exc.detail})
        return entry
    ready = {k: v for k, v in entry["input"].items() if k not in pending}
    try:
        action.input_schema().load(ready, partial=tuple(pending) or False)
    except ValidationError as exc:
        entry["errors"] += marshmallow_errors(exc.messages)
    entry["input"] = to_json(entry["input"])
    return entry
