"""Operators: the queue, a complaint's stages, results, revocation decisions (being built)."""

from __future__ import annotations

from flows.events import Command, Event, Tap
from flows.step import Step

FLOW = "operator"
BUTTONS: frozenset[str] = frozenset()


def queue_command(step: Step, command: Command) -> None:
    step.refuse_non_operator("/queue")


def open_command(step: Step, command: Command) -> None:
    step.refuse_non_operator("/open")


def requests_command(step: Step, command: Command) -> None:
    step.refuse_non_operator("/requests")


def on_tap(step: Step, tap: Tap) -> None:
    if not step.refuse_non_operator(tap.raw):
        step.notice("errors.button_invalid", alert=True)


def on_event(step: Step, event: Event) -> None:
    step.set_task(None)
