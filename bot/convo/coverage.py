"""Which transitions of the flows and which message keys a test run exercised.

Recorded below every driver: during the run `transitions.core.Transition.execute` is wrapped
(a row counts as walked when it fired: its conditions held), and so is `Renderer.text` (the
one place a message key becomes text: replies, notifications, broadcasts, buttons, pop-ups).
The machines are found, not listed: every `transitions.Machine` at module level in `flows`.

A transition is one row of a machine's table from one source state: `source -trigger-> dest`
(`=` when it stays), marked `guarded [conditions]` or, after guarded rows of the same trigger
and source, `fallback`.

    pytest --desk-coverage[=FILE.json]           report after the run; with FILE, write the
                                                 walked set there (for `diagram --coverage`)
                                                 and the Mermaid diagrams to FILE.mmd
    pytest --desk-coverage-gate=EXCEPTIONS.yaml  fail the run if a transition is walked by no
                                                 test and not accepted there (with a reason)
"""

from __future__ import annotations

import contextlib
import importlib
import json
import pkgutil
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from transitions import Machine
from transitions.core import EventData, Transition

import flows
from bot.render import Renderer


@dataclass(frozen=True)
class Edge:
    machine: str
    source: str
    trigger: str
    dest: str  # "=" when the row keeps the state
    index: int  # among the rows of this trigger from this source, in table order
    guard: str  # "", "guarded [a, b]" or "fallback"

    @property
    def id(self) -> str:
        return f"{self.source} -{self.trigger}-> {self.dest}" + (
            f" #{self.index}" if self.index else ""
        )

    def label(self) -> str:
        return f"{self.id}  {self.guard}".rstrip()


@cache
def machines() -> dict[str, Machine]:
    """Every module-level Machine in the `flows` package, by module name."""
    found: dict[str, Machine] = {}
    for info in pkgutil.iter_modules(flows.__path__):
        module = importlib.import_module(f"flows.{info.name}")
        for attr in vars(module).values():
            if isinstance(attr, Machine) and attr not in found.values():
                found[info.name] = attr
    return found


def _cond_name(condition: Any) -> str:
    name = getattr(condition.func, "__name__", str(condition.func))
    return name if condition.target else f"not {name}"


def edges() -> list[Edge]:
    out: list[Edge] = []
    for name, machine in machines().items():
        for trigger, event in machine.events.items():
            for source, rows in event.transitions.items():
                guarded = False
                for index, row in enumerate(rows):
                    if row.conditions:
                        conds = ", ".join(_cond_name(c) for c in row.conditions)
                        guard, guarded = f"guarded [{conds}]", True
                    else:
                        guard = "fallback" if guarded else ""
                    out.append(Edge(name, source, trigger, row.dest or "=", index, guard))
    return out


class Recording:
    """What ran: (machine, source, trigger, index) -> times, and message key -> times."""

    def __init__(self) -> None:
        self.walked: Counter[tuple[str, str, str, int]] = Counter()
        self.keys: Counter[str] = Counter()
        self._names: dict[int, str] = {}

    @contextlib.contextmanager
    def installed(self) -> Iterator[Recording]:
        """Record while inside; the wrapped methods are restored after."""
        execute, text = Transition.execute, Renderer.text
        self.install()
        try:
            yield self
        finally:
            Transition.execute = execute  # type: ignore[method-assign]
            Renderer.text = text  # type: ignore[method-assign]

    def install(self) -> None:
        """Record from now on (a pytest session: until the process ends)."""
        self._names = {id(m): n for n, m in machines().items()}
        execute, text = Transition.execute, Renderer.text
        recording = self

        def recorded_execute(transition: Transition, event_data: EventData) -> bool:
            done: bool = execute(transition, event_data)
            if done:
                recording.transition(transition, event_data)
            return done

        def recorded_text(
            renderer: Renderer, language: str, key: str, params: Mapping[str, Any]
        ) -> str:
            recording.keys[key] += 1
            return text(renderer, language, key, params)

        Transition.execute = recorded_execute  # type: ignore[method-assign,assignment]
        Renderer.text = recorded_text  # type: ignore[method-assign,assignment]

    def transition(self, transition: Transition, event_data: Any) -> None:
        machine = event_data.machine
        name = self._names.get(id(machine))
        if name is None:
            return  # a machine outside `flows` (a test's own)
        trigger = event_data.event.name
        rows = machine.events[trigger].transitions[transition.source]
        index = next(i for i, row in enumerate(rows) if row is transition)
        self.walked[(name, transition.source, trigger, index)] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "transitions": [
                {"machine": m, "source": s, "trigger": t, "index": i, "times": n}
                for (m, s, t, i), n in sorted(self.walked.items())
            ],
            "keys": dict(sorted(self.keys.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recording:
        made = cls()
        for row in data.get("transitions", []):
            made.walked[(row["machine"], row["source"], row["trigger"], row["index"])] = row[
                "times"
            ]
        made.keys.update(data.get("keys", {}))
        return made

    def times(self, edge: Edge) -> int:
        return self.walked[(edge.machine, edge.source, edge.trigger, edge.index)]


def all_keys() -> set[str]:
    from bot.i18n import Translator

    tr = Translator.load()
    return set().union(*(tr.keys(lang) for lang in tr.languages))


def figure(rec: Recording) -> tuple[int, int]:
    every = edges()
    return sum(1 for e in every if rec.times(e)), len(every)


def report(rec: Recording) -> str:
    """Per machine: walked and unwalked transitions; then the message keys never rendered."""
    lines: list[str] = []
    walked, total = figure(rec)
    lines.append(f"flow coverage: {walked}/{total} transitions walked ({_pct(walked, total)})")
    for name in machines():
        mine = [e for e in edges() if e.machine == name]
        hit = [e for e in mine if rec.times(e)]
        lines.append(f"\n{name}: {len(hit)}/{len(mine)} transitions")
        for edge in mine:
            mark = f"{rec.times(edge):5d}x" if rec.times(edge) else "  ---  NOT WALKED"
            lines.append(f"  {mark}  {edge.label()}")
    keys = all_keys()
    used = keys & set(rec.keys)
    lines.append(f"\nmessage keys: {len(used)}/{len(keys)} rendered ({_pct(len(used), len(keys))})")
    unused = sorted(keys - used)
    for prefix in sorted({k.split(".")[0] for k in unused}):
        group = [k for k in unused if k.split(".")[0] == prefix]
        lines.append(f"  never rendered ({prefix}): " + ", ".join(group))
    return "\n".join(lines)


def mermaid(rec: Recording, name: str) -> str:
    """One machine as a Mermaid flowchart: walked edges with their count, unwalked in red."""
    mine = [e for e in edges() if e.machine == name]
    hit = sum(1 for e in mine if rec.times(e))
    out = [f"%% {name} flow: {hit}/{len(mine)} transitions walked", "flowchart LR"]
    states = sorted({e.source for e in mine} | {e.dest for e in mine if e.dest != "="})
    out += [f"    {s}([{s}])" for s in states]
    unwalked = []
    for number, edge in enumerate(mine):
        dest = edge.source if edge.dest == "=" else edge.dest
        guard = f" {edge.guard}" if edge.guard else ""
        count = rec.times(edge)
        label = f"{edge.trigger}{guard} ×{count}" if count else f"{edge.trigger}{guard} NOT WALKED"
        out.append(f'    {edge.source} -->|"{label}"| {dest}')
        if not count:
            unwalked.append(str(number))
    if unwalked:
        out.append(
            f"    linkStyle {','.join(unwalked)} stroke:#d00,stroke-width:3px,stroke-dasharray:6"
        )
    return "\n".join(out)


def draw(path: Path, name: str | None = None) -> int:
    """`complaint-desk diagram --coverage FILE [FLOW]`: print the Mermaid; the exit code."""
    try:
        rec = Recording.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"{path}: not a coverage file from `pytest --desk-coverage=FILE` ({exc})")
        return 1
    names = list(machines())
    if name is not None and name not in names:
        print(f"no flow {name!r}; the flows are {', '.join(names)}")
        return 1
    print("\n\n".join(mermaid(rec, one) for one in ([name] if name else names)))
    return 0


def gate(rec: Recording, exceptions: Path) -> list[str]:
    """Problems: unwalked transitions not accepted, and accepted ones that no longer apply."""
    accepted = _exceptions(exceptions)
    problems = []
    for edge in edges():
        reason = accepted.pop((edge.machine, edge.id), None)
        if not rec.times(edge) and reason is None:
            problems.append(f"{edge.machine}: {edge.label()} is walked by no test")
        elif rec.times(edge) and reason is not None:
            problems.append(f"{edge.machine}: {edge.id} is walked now: remove it from {exceptions}")
    problems += [f"{m}: {i} is listed in {exceptions} but is no transition" for m, i in accepted]
    return problems


def _exceptions(path: Path) -> dict[tuple[str, str], str]:
    """`machine: {"source -trigger-> dest": reason}`; a reason is required."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[tuple[str, str], str] = {}
    for machine, rows in data.items():
        for edge_id, reason in (rows or {}).items():
            if not isinstance(reason, str) or not reason.strip():
                raise ValueError(f"{path}: {machine}: {edge_id}: give the reason it is accepted")
            out[(str(machine), str(edge_id))] = reason
    return out


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"
