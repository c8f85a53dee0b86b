"""A conversation script as data: actors and steps, with includes expanded and lines kept.

`parse(path)` reads a `*.convo.yaml` file, checks it against the schema, expands `include:`
(binding the partial's parameters) and checks what the schema cannot: that every step names a
known actor or action and that expectations are about known actors. Variables captured while
running (`$complaint`) stay in the steps as written; the runner resolves them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.convo.source import ScriptError, check, compose, items, line, shown, value

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
ACTIONS = ("advance", "restart", "fault", "block", "unblock", "include")
VARIABLE = re.compile(r"\$\$|\$\{(\w+)\}|\$(\w+)")
_DURATION = re.compile(r"(\d+)\s*([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MAX_INCLUDE_DEPTH = 8


@dataclass(frozen=True)
class Where:
    """A place in a script; `via` lists the include steps that led there."""

    path: Path
    line: int
    via: tuple[str, ...] = ()

    def __str__(self) -> str:
        chain = "".join(f" (included from {v})" for v in self.via)
        return f"{shown(self.path)}:{self.line}{chain}"

    def error(self, message: str) -> ScriptError:
        error = ScriptError(self.path, self.line, message)
        error.args = (f"{self}: {message}",)
        return error


@dataclass(frozen=True)
class ActorSpec:
    name: str
    id: int
    language: str = "en"
    operator: bool = False
    blocked: bool = False


@dataclass(frozen=True)
class Expectation:
    where: Where
    data: Any  # "nothing_more", {"popup": key} or a message matcher (see schema.json)


@dataclass(frozen=True)
class Step:
    where: Where
    kind: str  # "input" or one of ACTIONS but include
    actor: str | None
    data: Any
    expect: dict[str, list[Expectation]] = field(default_factory=dict)
    events: list[Expectation] = field(default_factory=list)

    def describe(self) -> str:
        what = self.actor if self.kind == "input" else self.kind
        return f"{what}: {self.data!r}" if self.data not in (None, {}) else str(what)


@dataclass(frozen=True)
class Script:
    path: Path
    name: str
    start: datetime
    limits: bool
    actors: dict[str, ActorSpec]
    steps: list[Step]


def parse_duration(text: str) -> timedelta:
    """`90m`, `2h`, `1h30m` (the schema checked the form)."""
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(text)))


def substitute(data: Any, bound: Mapping[str, Any], where: Where | None, *, strict: bool) -> Any:
    """Replace $name / ${name} in strings (and mapping keys) by bound values.

    A string that is only one variable takes the value as it is (a number stays a number).
    With `strict`, an unbound variable is an error; otherwise it is left for later.
    """
    if isinstance(data, dict):
        return {
            substitute(k, bound, where, strict=strict): substitute(v, bound, where, strict=strict)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [substitute(v, bound, where, strict=strict) for v in data]
    if not isinstance(data, str):
        return data
    whole = VARIABLE.fullmatch(data)
    if whole and (name := whole.group(1) or whole.group(2)) in bound:
        return bound[name]

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name is None:
            return "$$" if not strict else "$"
        if name in bound:
            return str(bound[name])
        if strict and where is not None:
            known = ", ".join(f"${n}" for n in bound) or "none yet"
            raise where.error(
                f"no variable ${name} (set so far: {known}); a capture such as "
                f"`params: {{number: ${name}}}` on an earlier expectation sets it"
            )
        return match.group(0)

    return VARIABLE.sub(one, data)


def parse(path: Path) -> Script:
    node = compose(path)
    check(path, node, skip="step")
    top = dict(items(node))
    if "actors" not in top:
        raise ScriptError(path, line(node), "missing 'actors' (a runnable script names its actors)")
    actors = _actors(path, top["actors"])
    start = _start(path, top.get("start"))
    steps = _steps(path, top["steps"], actors, {}, ())
    name = value(top["name"]) if "name" in top else path.name.removesuffix(".convo.yaml")
    limits = bool(value(top["limits"])) if "limits" in top else True
    return Script(path, str(name), start, limits, actors, steps)


def _actors(path: Path, node: yaml.Node) -> dict[str, ActorSpec]:
    actors: dict[str, ActorSpec] = {}
    next_id = {False: 1001, True: 9001}
    for name, spec_node in items(node):
        if name in ACTIONS or name in ("expect", "with", "events"):
            raise ScriptError(path, line(spec_node), f"{name!r} is a step word, not an actor name")
        spec = value(spec_node) or {}
        operator = bool(spec.get("operator", False))
        actor_id = int(spec.get("id", next_id[operator]))
        next_id[operator] = max(next_id[operator], actor_id) + 1
        if any(a.id == actor_id for a in actors.values()):
            raise ScriptError(path, line(spec_node), f"actor {name!r}: id {actor_id} is taken")
        language = str(spec.get("language", "en"))
        blocked = bool(spec.get("blocked", False))
        actors[name] = ActorSpec(name, actor_id, language, operator, blocked)
    if not actors:
        raise ScriptError(path, line(node), "no actors (expected e.g. `alice: {language: en}`)")
    return actors


def _start(path: Path, node: yaml.Node | None) -> datetime:
    if node is None:
        return DEFAULT_START
    text = str(value(node))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ScriptError(path, line(node), f"start: {text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_ZONE)


def _steps(
    path: Path,
    node: yaml.Node,
    actors: dict[str, ActorSpec],
    params: dict[str, Any],
    via: tuple[str, ...],
) -> list[Step]:
    out: list[Step] = []
    for step_node in node.value:
        where = Where(path, line(step_node), via)
        if isinstance(step_node, yaml.ScalarNode):  # the bare word `restart`
            _checked(where, step_node, "step")
            out.append(Step(where, "restart", None, None))
            continue
        pairs = {str(substitute(k, params, where, strict=False)): n for k, n in items(step_node)}
        actions = [k for k in pairs if k not in ("expect", "with")]
        if len(actions) != 1:
            words = ", ".join(actions) or "none"
            raise where.error(f"a step does exactly one thing (found: {words})")
        action = actions[0]
        if "with" in pairs and action != "include":
            raise where.error("`with` goes with `include` only")
        if action == "include":
            _checked(where, step_node, "step")
            out.extend(_include(where, pairs, actors, params, via))
            continue
        if action not in actors and action not in ACTIONS:
            raise where.error(
                f"unknown step {action!r}: expected an actor ({', '.join(actors)}) "
                f"or {', '.join(ACTIONS)}"
            )
        _checked(where, step_node, "step")
        data = substitute(value(pairs[action]), params, where, strict=False)
        kind = "input" if action in actors else action
        _check_action(where, kind, data, actors)
        expect, events = _expect(path, pairs.get("expect"), actors, params, via)
        out.append(Step(where, kind, action if kind == "input" else None, data, expect, events))
    return out


def _checked(where: Where, node: yaml.Node | None, ref: str) -> yaml.Node:
    """Schema-check `node` (or compose and check the file of `where`), keeping the include chain."""
    try:
        if node is None:
            node = compose(where.path)
            check(where.path, node, skip="step")
        else:
            check(where.path, node, ref)
    except ScriptError as exc:
        raise Where(exc.path, exc.line, where.via).error(exc.message) from None
    return node


def _check_action(where: Where, kind: str, data: Any, actors: dict[str, ActorSpec]) -> None:
    named = None
    if kind in ("block", "unblock"):
        named = data
    elif kind == "fault" and "chat" in data:
        named = data["chat"]
    if named is not None and named not in actors:
        raise where.error(f"{kind}: {named!r} is not an actor ({', '.join(actors)})")
    if kind == "advance" and parse_duration(data) <= timedelta(0):
        raise where.error("advance: the clock only moves forward (e.g. 90m, 2h)")


def _include(
    where: Where,
    pairs: dict[str, yaml.Node],
    actors: dict[str, ActorSpec],
    params: dict[str, Any],
    via: tuple[str, ...],
) -> list[Step]:
    if len(via) >= MAX_INCLUDE_DEPTH:
        raise where.error(f"includes nested more than {MAX_INCLUDE_DEPTH} deep (a cycle?)")
    target = where.path.parent / str(
        substitute(value(pairs["include"]), params, where, strict=True)
    )
    if not target.is_file():
        raise where.error(f"include: no file {target}")
    given = substitute(value(pairs["with"]) if "with" in pairs else {}, params, where, strict=True)
    inside = Where(target, 0, (*via, str(where)))
    partial = _checked(inside, None, "")
    top = dict(items(partial))
    if "actors" in top:
        raise Where(target, line(top["actors"]), inside.via).error("a partial has no `actors`")
    wanted = [str(p) for p in value(top["params"])] if "params" in top else []
    missing = [p for p in wanted if p not in given]
    unknown = [p for p in given if p not in wanted]
    if missing or unknown:
        detail = f"missing {missing}" if missing else f"unknown {unknown}"
        raise where.error(f"include {target.name}: parameters {detail} (it takes {wanted})")
    if "expect" in pairs:
        raise where.error("an include step has no `expect` (put it in the partial's steps)")
    return _steps(target, top["steps"], actors, dict(given), (*via, str(where)))


def _expect(
    path: Path,
    node: yaml.Node | None,
    actors: dict[str, ActorSpec],
    params: dict[str, Any],
    via: tuple[str, ...],
) -> tuple[dict[str, list[Expectation]], list[Expectation]]:
    expect: dict[str, list[Expectation]] = {}
    events: list[Expectation] = []
    for raw_name, list_node in items(node) if node is not None else []:
        name = str(substitute(raw_name, params, Where(path, line(list_node), via), strict=False))
        found = [
            Expectation(
                Where(path, line(n), via),
                substitute(value(n), params, Where(path, line(n), via), strict=False),
            )
            for n in list_node.value
        ]
        if name == "events":
            events = found
        elif name in actors:
            expect[name] = found
        else:
            raise ScriptError(
                path,
                line(list_node),
                f"expect: {name!r} is not an actor ({', '.join(actors)}) nor `events`",
            )
    return expect, events
