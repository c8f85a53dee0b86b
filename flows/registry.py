"""What each feature module offers the engine, and the registry the engine routes through.

A feature module exports one `Feature`: its commands (name -> handler), the scope of its
stateless buttons with their handler, and the task flows it runs. `flows.features` lists the
feature modules and builds the `Registry` once; the engine names no feature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from flows.context import Context
from flows.conversation import Flow
from flows.events import Command, Tap
from flows.records import UserRecord

CommandHandler = Callable[[Context, Command], None]
TapHandler = Callable[[Context, Tap], None]

T = TypeVar("T")

CONVERSATION_SCOPE = "f"  # buttons of the open conversation, stamped with the prompt nonce
CONVERSATION_COMMANDS = frozenset({"start", "cancel"})  # belong to the open conversation


@dataclass(frozen=True)
class Feature:
    """A feature's entry points: commands, one button scope, task flows."""

    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
    # Deep links: `/start <prefix>_<argument>` (t.me/<bot>?start=<prefix>_<argument>) runs the
    # handler with the argument, whatever conversation is open.
    links: Mapping[str, CommandHandler] = field(default_factory=dict)
    scope: str | None = None
    on_tap: TapHandler | None = None
    flows: tuple[Flow, ...] = ()


@dataclass(frozen=True)
class Registry:
    """Every entry point, by name: built once from the features; a name is taken only once."""

    conversation: Flow  # the flow underneath every task (filing)
    commands: Mapping[str, CommandHandler]
    scopes: Mapping[str, TapHandler]
    flows: Mapping[str, Flow]
    buttons: frozenset[str]  # every action a conversation button may carry
    links: Mapping[str, CommandHandler] = field(default_factory=dict)

    @classmethod
    def of(cls, conversation: Flow, features: Iterable[Feature]) -> Registry:
        commands: dict[str, CommandHandler] = {}
        links: dict[str, CommandHandler] = {}
        scopes: dict[str, TapHandler] = {}
        flows: dict[str, Flow] = {conversation.name: conversation}
        for feature in features:
            _add(commands, feature.commands, "command")
            _add(links, feature.links, "deep link")
            if feature.scope is not None and feature.on_tap is not None:
                _add(scopes, {feature.scope: feature.on_tap}, "button scope")
            _add(flows, {flow.name: flow for flow in feature.flows}, "flow")
        assert not CONVERSATION_COMMANDS & commands.keys(), "/start and /cancel are the flows'"
        assert CONVERSATION_SCOPE not in scopes, "scope f is the conversation's"
        buttons = frozenset().union(*(flow.buttons for flow in flows.values()))
        return cls(conversation, commands, scopes, flows, buttons, links)

    def deep_link(self, command: Command) -> tuple[CommandHandler, Command] | None:
        """The handler of a `/start <prefix>_<argument>` deep link, with the argument."""
        prefix, _, argument = command.args.strip().partition("_")
        handler = self.links.get(prefix) if command.name == "start" and argument else None
        return (handler, Command(command.name, argument)) if handler else None

    def open_flow(self, user: UserRecord) -> Flow:
        """The conversation an event goes to: the open task's flow, else the filing flow."""
        return self.conversation if user.task is None else self.flows[user.task.flow]


def _add(into: dict[str, T], items: Mapping[str, T], what: str) -> None:
    for name, item in items.items():
        assert name not in into, f"{what} {name!r} is registered twice"
        into[name] = item
