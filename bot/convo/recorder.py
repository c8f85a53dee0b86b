"""`:record FILE` in the console: the session written as a conversation script as it happens.

Each console line becomes a step (text, tap, files, forward, block, advance, restart); what
each user got in that step becomes ordered expectations by message key, closed by
`nothing_more`; a complaint number seen for the first time is captured (`$complaint`,
`$complaint2`, ...) and written as that variable wherever it appears later (typed text, button
labels, message parameters). The file is rewritten after every step, so it is complete at any
moment; `:stop` only ends the recording. Replayed with pytest it starts from an empty desk
at the clock time of `:record`, so record from the start of a session.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from bot.convo.watch import StepWatcher
from bot.fake.models import FakeMessage, FakeTap
from bot.i18n import Translator, plain
from bot.simulator import Simulator

NUMBER = re.compile(r"\d{6}-[0-9A-Z]{4}-[0-9A-Z]{4}")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_FILES = {"photo", "video", "document"}
_SILENT = {"time", "help", "record", "stop", "as", "quit"}


def _known(pattern: re.Pattern[str], text: str, known: dict[str, str]) -> bool:
    return any(n in known for n in pattern.findall(text))


class Recorder:
    def __init__(
        self, path: Path, sim: Simulator, translator: Translator, operators: frozenset[int]
    ) -> None:
        self.path = path
        self.sim = sim
        self.tr = translator
        self.operators = operators
        self.start = sim.clock.now()
        self.actors: dict[int, dict[str, Any]] = {}
        self.steps: list[Any] = []
        self.numbers: dict[str, str] = {}  # complaint number -> variable name
        self.watcher = StepWatcher(sim.world)

    # ---- naming ------------------------------------------------------------------------------

    def actor(self, user_id: int) -> str:
        if user_id not in self.actors:
            user = self.sim.world.users[user_id]
            spec: dict[str, Any] = {"id": user_id, "language": user.language_code or "en"}
            if user_id in self.operators:
                spec["operator"] = True
            self.actors[user_id] = spec
        return f"operator{user_id}" if user_id in self.operators else f"user{user_id}"

    def _language(self, user_id: int) -> str:
        return self.sim.language_of(self.sim.world.users[user_id].language_code)

    def _vars(self, text: str) -> str:
        """Known complaint numbers in `text` written as their variables."""
        text = text.replace("$", "$$")
        known = self.numbers
        return NUMBER.sub(lambda m: f"${known[m[0]]}" if m[0] in known else m[0], text)

    def key_of(self, text: str, language: str) -> tuple[str, dict[str, str]] | None:
        """The most specific message key `text` renders, with its parameters."""
        best: tuple[int, str, dict[str, str]] | None = None
        for key in sorted(self.tr.keys(language)):
            found = self.tr.fullmatch(language, key, text)
            if found is None:
                continue
            literal = len(_PLACEHOLDER.sub("", self.tr.template(language, key)))
            if best is None or literal > best[0]:
                best = (literal, key, found.groupdict())
        return None if best is None or best[0] == 0 else (best[1], best[2])

    # ---- one console line --------------------------------------------------------------------

    def after(self, user_id: int, line: str) -> None:
        """The console carried out `line` as `user_id`: write it and what everyone got."""
        step = self._input(user_id, line)
        if step is None:
            self.watcher.begin()
            return
        expect: dict[str, Any] = {}
        tapped = line.startswith(":tap")
        news = {uid for uid in self.sim.world.users if self.watcher.got(uid)}
        for uid in sorted(set(self.actors) | {user_id} | news):
            got = self.watcher.got(uid)
            items = [self._expectation(msg, uid) for msg in got]
            answer = self.sim.world.callback_answer(self._last_query(uid)) if tapped else None
            if uid == user_id and answer is not None and answer.text:
                found = self.key_of(plain(answer.text), self._language(uid))
                if found is not None:
                    items.append({"popup": found[0]})
            if items or uid == user_id:
                expect[self.actor(uid)] = [*items, "nothing_more"] if items else []
        self.watcher.begin()
        self.steps.append({**step, "expect": expect})
        self.write()

    def _last_query(self, user_id: int) -> str:
        taps = [e for e in self.sim.world.timeline(user_id) if isinstance(e, FakeTap)]
        return taps[-1].query_id if taps else ""

    def _input(self, user_id: int, line: str) -> dict[str, Any] | None:
        text = line.rstrip("\r\n")
        name = self.actor(user_id)
        if not text.startswith(":") or text.startswith("::"):
            said = text[1:] if text.startswith("::") else text
            return {name: self._vars(said)}
        command, _, arg = text[1:].partition(" ")
        arg = arg.strip()
        if command in _SILENT:
            return None
        if command == "tap":
            return {name: {"tap": self._tap(user_id)}}
        if command in _FILES:
            path = Path(arg).expanduser().resolve()
            try:
                shown = os.path.relpath(path, self.path.resolve().parent)
            except ValueError:  # another drive
                shown = str(path)
            return {name: {command: {"file": shown}}}
        if command == "forward":
            sender, _, said = arg.partition(":")
            return {name: {"forward": {"from": sender.strip(), "text": self._vars(said.strip())}}}
        if command in ("block", "unblock"):
            return {command: name}
        if command == "advance":
            return {"advance": arg}
        if command == "restart":
            return {"restart": None}
        return None

    def _tap(self, user_id: int) -> Any:
        taps = [e for e in self.sim.world.timeline(user_id) if isinstance(e, FakeTap)]
        label = taps[-1].label or ""
        found = self.key_of(label, self._language(user_id))
        if found is not None and not found[1]:
            return found[0]
        return {"label": self._vars(label)}

    def _expectation(self, msg: FakeMessage, user_id: int) -> dict[str, Any]:
        found = self.key_of(msg.text, self._language(user_id))
        if found is None:
            return {"text": self._vars(msg.text)}
        key, params = found
        captured: dict[str, str] = {}
        for param, got in params.items():
            if not NUMBER.fullmatch(got.strip()):
                continue
            number = got.strip()
            if number not in self.numbers:
                self.numbers[number] = "complaint" + (
                    str(len(self.numbers) + 1) if self.numbers else ""
                )
            captured[param] = f"${self.numbers[number]}"
        out: dict[str, Any] = {"key": key, "params": captured} if captured else {"key": key}
        inside = [n for n in NUMBER.findall(msg.text) if n in self.numbers]
        if inside and f"${self.numbers[inside[0]]}" not in captured.values():
            out["contains"] = f"${self.numbers[inside[0]]}"  # e.g. a line of a list
        labels = [b.label for row in msg.buttons for b in row]
        with_numbers = [{"label": self._vars(t)} for t in labels if _known(NUMBER, t, self.numbers)]
        if with_numbers:
            out["buttons"] = with_numbers  # e.g. the queue's buttons, one per complaint
        return out

    # ---- the file ----------------------------------------------------------------------------

    def script(self) -> dict[str, Any]:
        names = {uid: self.actor(uid) for uid in self.actors}
        return {
            "name": f"recorded with :record {self.path.name}",
            "start": self.start.isoformat(),
            "actors": {names[uid]: spec for uid, spec in self.actors.items()},
            "steps": self.steps,
        }

    def write(self) -> None:
        text = yaml.safe_dump(self.script(), sort_keys=False, allow_unicode=True, width=100)
        self.path.write_text(text, encoding="utf-8")
