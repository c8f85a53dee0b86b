"""Run a parsed script on the simulator: the real Application, the fake Telegram, a FakeClock.

Every script gets its own SQLite file in a temporary folder, its own world and clock. Each
step is carried out as the simulator's actors do it, then the step's expectations are checked
against what each actor got in that step and the domain events it published.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from telegram.request import BaseRequest

from bot.app import AnyApp, build_application
from bot.clock import FakeClock
from bot.config import Settings
from bot.convo.expect import ConvoFailure, Matcher, check_actor, check_events
from bot.convo.model import Script, Step, parse_duration, substitute
from bot.convo.source import ScriptError
from bot.convo.watch import StepWatcher
from bot.fake.models import FakeMessage
from bot.fake.transcript import render_message
from bot.fake.world import FakeTelegram
from bot.i18n import Translator
from bot.simulator import Actor, Simulator
from flows.replies import DomainEvent

MEDIA = ("photo", "document", "video")
SETTLE = timedelta(seconds=10)
"""A step waits this long (virtual time) at most for paced messages it caused."""


@cache
def translator() -> Translator:
    return Translator.load()


async def run_script(script: Script) -> None:
    """Run every step; raise ConvoFailure (an expectation) or ScriptError (the script)."""
    with tempfile.TemporaryDirectory(prefix="convo-") as folder:
        await Run(script, Path(folder)).run()


class Run:
    def __init__(self, script: Script, folder: Path) -> None:
        self.script = script
        self.settings = Settings(
            database=folder / "desk.sqlite3",
            operator_ids=frozenset(a.id for a in script.actors.values() if a.operator),
            sweep_seconds=3600,
        )
        self.events: list[DomainEvent] = []
        self.vars: dict[str, Any] = {}
        self.actors: dict[str, Actor] = {}
        self._files = 0

    async def _factory(self, request: BaseRequest, clock: FakeClock) -> AnyApp:
        return build_application(
            self.settings,
            clock=clock,
            request=request,
            translator=translator(),
            sinks=[self.events.append],
        )

    async def run(self) -> None:
        clock = FakeClock(self.script.start)
        world = FakeTelegram(clock)
        if self.script.limits:
            world.enforce_limits()
        self.watcher = StepWatcher(world)
        sim = await Simulator.start(
            self._factory, clock=clock, world=world, translator=translator()
        )
        async with sim:
            for spec in self.script.actors.values():
                self.actors[spec.name] = sim.user(spec.id, spec.name, spec.language)
                if spec.blocked:
                    world.block(spec.id)
            for step in self.script.steps:
                await self.step(sim, step)

    async def step(self, sim: Simulator, step: Step) -> None:
        first_event = len(self.events)
        data = substitute(step.data, self.vars, step.where, strict=True)
        try:
            await self.act(sim, step, data)
            await settle(sim)
        except ScriptError:
            raise
        except AssertionError as exc:  # the bot crashed, stayed busy, or no such button
            raise ConvoFailure(f"{step.where}: {step.describe()}: {exc}") from None
        try:
            for name, expectations in step.expect.items():
                actor = self.actors[name]
                check_actor(
                    Matcher(translator(), actor.language),
                    name,
                    expectations,
                    self.watcher.got(actor.id),
                    actor.last_callback_answer if step.actor == name else None,
                    self.vars,
                    lambda msgs: _render(sim.world, msgs),
                )
                self.watcher.seen(actor.id)
            check_events(step.events, self.events[first_event:], self.vars)
        except ConvoFailure as exc:
            raise ConvoFailure(
                f"{exc}\nstep: {step.where}: {step.describe()}\n\n{sim.transcripts(last=40)}"
            ) from None

    async def act(self, sim: Simulator, step: Step, data: Any) -> None:
        world = sim.world
        if step.kind == "advance":
            await sim.advance(seconds=parse_duration(str(data)).total_seconds())
        elif step.kind == "restart":
            await sim.restart()
        elif step.kind == "fault":
            error = data["error"]
            chat = data.get("chat")
            world.fault(
                data["method"],
                code=0 if error == "timeout" else int(error),
                timeout=error == "timeout",
                retry_after=data.get("retry_after"),
                times=int(data.get("times", 1)),
                chat_id=None if chat is None else self.script.actors[chat].id,
            )
        elif step.kind in ("block", "unblock"):
            world.block(self.script.actors[data].id, step.kind == "block")
        else:
            assert step.actor is not None
            await self.input(self.actors[step.actor], step, data)

    async def input(self, actor: Actor, step: Step, data: Any) -> None:
        if isinstance(data, str):
            await actor.send(data)
            return
        (kind, spec), *_ = data.items()
        if kind == "text":
            await actor.send(str(spec))
        elif kind == "tap":
            await self.tap(actor, step, spec)
        elif kind in MEDIA:
            await getattr(actor, f"send_{kind}")(**self.media(step, kind, spec))
        elif kind == "album":
            album = [{"photo": None}] * spec if isinstance(spec, int) else spec
            entries = [next(iter(entry.items())) for entry in album]
            await actor.send_album([{"kind": k, **self.media(step, k, s)} for k, s in entries])
        elif kind == "forward":
            await actor.forward(str(spec["from"]), str(spec["text"]))

    def media(self, step: Step, kind: str, spec: dict[str, Any] | None) -> dict[str, Any]:
        """Keyword arguments for the world: bytes from a file, or generated ones (distinct)."""
        spec = spec or {}
        self._files += 1
        if "file" in spec:
            path = step.where.path.parent / str(spec["file"])
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise step.where.error(f"{kind}: cannot read {path}: {exc.strerror}") from None
            name = spec.get("name", path.name)
        else:
            seed = f"{kind}-{self._files}-".encode()
            size = int(spec.get("bytes", 1024))
            data = (seed * (size // len(seed) + 1))[:size]
            name = spec.get("name")
        out: dict[str, Any] = {"data": data}
        if name is not None:
            out["file_name"] = str(name)
        if "caption" in spec:
            out["caption"] = str(spec["caption"])
        return out

    async def tap(self, actor: Actor, step: Step, spec: Any) -> None:
        keyboards = [m for m in actor.messages if m.buttons]
        if not keyboards:
            raise step.where.error(f"tap {spec!r}: {actor.name} has no message with buttons")
        msg = keyboards[-1]
        buttons = [b for row in msg.buttons for b in row]
        matcher = Matcher(translator(), actor.language)
        found = [b for b in buttons if matcher.button_matches(b, spec, self.vars)]
        if len(found) != 1:
            on_screen = " ".join(f"[{b.label}]" for b in buttons)
            what = "no button" if not found else "several buttons"
            raise step.where.error(
                f"tap {spec!r}: {what} like that on {actor.name}'s newest keyboard "
                f"(message {msg.message_id}: {on_screen})"
            )
        await actor.tap(label=found[0].label, data=found[0].data, message_id=msg.message_id)


async def settle(sim: Simulator, budget: timedelta = SETTLE) -> None:
    """Let what the step started finish: while the bot's own work waits on the clock (a paced
    message to another chat, a retry after a 429), move the clock on, at most `budget`."""
    limit = sim.clock.now() + budget
    while sim.tasks.any_on_clock() and (due := sim.clock.next_wakeup()) is not None:
        if due > limit:
            return
        await sim.advance(seconds=(due - sim.clock.now()).total_seconds())


def _render(world: FakeTelegram, messages: Sequence[FakeMessage]) -> str:
    return "\n".join("  " + line for msg in messages for line in render_message(world, msg))
