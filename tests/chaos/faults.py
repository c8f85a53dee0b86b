"""The fault matrix of `make chaos`: each error kind on each kind of send a person waits for.

In process, on the simulator (the real Application, the fake Telegram, a FakeClock): a person
at the main menu taps "File a complaint" (the tap is answered, the type menu is sent) or, at
the target step, sends the target (the evidence checklist is sent). One fault is set on the
Bot API method for that chat, once, before the step. For each case: how many times the
expected answer arrived, whether the tap was answered, whether the step was committed, and
whether an apology was shown. Retried kinds must arrive exactly once (a time-out whose call
was carried out may show twice: at least once, by design); a 403 blocks, a 400 apologises.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.request import BaseRequest

from bot.app import AnyApp, build_application, runtime
from bot.clock import FakeClock
from bot.config import Settings
from bot.i18n import Translator
from bot.simulator import Actor, Simulator
from tests.conftest import START

USER = 4242


@dataclass(frozen=True)
class Fault:
    name: str
    spec: dict[str, Any]
    expect: str  # what must happen: "once", "at least once", "blocked", "apology"


FAULTS = (
    Fault("429 retry_after 3", {"code": 429, "retry_after": 3}, "once"),
    Fault("500", {"code": 500}, "once"),
    Fault("502 (NetworkError)", {"code": 502}, "once"),
    Fault("time-out, not carried out", {"timeout": True}, "once"),
    Fault("time-out, carried out", {"timeout": True, "delivered": True}, "at least once"),
    Fault("403 blocked", {"code": 403}, "blocked"),
    Fault("400 bad request", {"code": 400}, "apology"),
)
SENDS = (
    ("sendMessage", "reply to a tap"),
    ("answerCallbackQuery", "answer to a tap"),
    ("sendMessage", "reply to a text"),
)


@dataclass
class Row:
    send: str
    fault: Fault
    arrived: int
    tap_answered: bool
    committed: bool
    apology: bool
    blocked: bool

    @property
    def ok(self) -> bool:
        expect = self.fault.expect
        if self.send == "answer to a tap":  # the reply must still arrive, once
            return self.arrived == 1 and self.committed and not self.apology
        if expect == "once":
            return self.arrived == 1 and self.committed and not self.apology
        if expect == "at least once":
            return self.arrived >= 1 and self.committed
        if expect == "blocked":
            return self.arrived == 0 and self.committed and self.blocked
        return self.arrived == 0 and self.apology  # a 400: the person is told, nothing lost


async def _case(method: str, send: str, fault: Fault, translator: Translator, db: Path) -> Row:
    settings = Settings(database=db, sweep_seconds=3600)

    async def factory(request: BaseRequest, clock: FakeClock) -> AnyApp:
        return build_application(settings, clock=clock, request=request, translator=translator)

    sim = await Simulator.start(factory, clock=FakeClock(START), translator=translator)
    sim.raise_errors = False
    async with sim:
        person: Actor = sim.user(USER, "P", language_code="en")
        await person.send("/start")
        if send == "reply to a text":
            await person.tap_key("menu.button.file")
            await person.tap(data=_type_button(person))
            await person.tap_key("filing.button.proceed")
            expected = "filing.evidence_status"
        else:
            expected = "filing.choose_type"
        mark = person.mark()
        sim.world.fault(method, chat_id=USER, times=1, **fault.spec)
        if send == "reply to a text":
            await person.send("wxid_scammer88")
        else:
            await person.tap_key("menu.button.file")
        new = person.since(mark)
        arrived = sum(1 for m in new if person.shows(m, expected))
        apology = any(person.shows(m, "errors.internal") for m in new)
        stored = await runtime(sim.app).store.read(lambda tx: tx.load_user(USER))
        state = stored.state if stored else ""
        blocked = bool(stored and stored.blocked_bot)
        committed = state != ("entering_target" if send == "reply to a text" else "idle")
        answered = not sim.world.unanswered_callbacks()
    return Row(send, fault, arrived, answered, committed, apology, blocked)


def _type_button(person: Actor) -> str:
    last = person.last
    return next(b.data for row in last.buttons for b in row if b.data and "friend" in b.label)


async def matrix() -> list[Row]:
    translator = Translator.load()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="desk-faults-") as folder:
        for method, send in SENDS:
            for fault in FAULTS:
                if send == "answer to a tap" and fault.expect in ("blocked", "apology"):
                    continue  # a refused callback answer is Telegram's "query is too old": h4
                db = Path(folder) / f"{len(rows)}.sqlite3"
                rows.append(await _case(method, send, fault, translator, db))
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| send | fault | expected | arrived | tap answered | committed | apology | ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.send} | {r.fault.name} | {r.fault.expect} | {r.arrived} | "
            f"{'yes' if r.tap_answered else 'NO'} | {'yes' if r.committed else 'no'} | "
            f"{'yes' if r.apology else 'no'} | {'ok' if r.ok else 'FAIL'} |"
        )
    return "\n".join(lines)
