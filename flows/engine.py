"""The engine: one update, one transaction.

`Desk.handle(tx, inbound, now)` is called by the storage layer inside one write transaction
(one thread hop): it records the update id (a redelivered update stops here), loads the user's
row, routes the event, saves the row with a version check, and returns an `Outcome` whose
replies the adapter sends only after the transaction committed.

Routing, through the `Registry` the feature modules fill (`flows.features`), in order:
- /start and /cancel go to the open conversation; any other command to its handler;
- a stateless button goes to the handler of its scope (guide, menu, complaints...);
- a conversation button (scope "f", checked against the prompt nonce), a text or a file goes
  to the open conversation: the open task's flow if there is one, else the filing flow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows import conversation, task
from flows.context import Context, Rules
from flows.events import Command, Event, Inbound, Tap
from flows.language import resolve_language
from flows.ports import Tx
from flows.records import UserRecord
from flows.redelivery import outcome_from_json, outcome_to_json
from flows.registry import CONVERSATION_COMMANDS, CONVERSATION_SCOPE, Registry
from flows.replies import Outcome, Reply


@dataclass(frozen=True)
class Desk:
    """The desk's rules and entry points plus the engine. Built once at start-up."""

    rules: Rules
    registry: Registry

    @property
    def default_language(self) -> str:
        return self.rules.default_language

    def handle(
        self, tx: Tx, inbound: Inbound, now: datetime, delivered: Sequence[int] = ()
    ) -> Outcome:
        """Run one update: claim it, load the user, route, save, keep its answer for a
        redelivery (flows/redelivery.py). Called inside a transaction. `delivered`: updates
        whose answers were sent since the last call, so their kept answers are dropped here."""
        if delivered:
            tx.forget_outcomes(delivered)
        if not tx.claim_update(inbound.update_id, now):
            kept = tx.kept_outcome(inbound.update_id)
            if kept is not None:  # its answer may not have arrived: send it again
                return outcome_from_json(kept)
            return Outcome(language=self.default_language, duplicate=True)
        stored = tx.load_user(inbound.user.id)
        user = self._refresh(stored, inbound, now)
        out = Outcome(language=user.language, nonce=user.nonce)
        ctx = Context(tx, now, self.rules, user, out, task_opener=self._open_task)
        self.route(ctx, inbound.event)
        user = ctx.user
        if ctx.nonce_bump:
            user = user.model_copy(update={"nonce": user.nonce + 1})
        if user != stored:
            saved = user.model_copy(update={"version": user.version + 1, "updated_at": now})
            tx.save_user(saved, expected_version=stored.version if stored else 0)
        ctx.out.language, ctx.out.nonce = user.language, user.nonce
        kept = outcome_to_json(ctx.out)
        if kept is not None:
            tx.keep_outcome(inbound.update_id, kept)
        return ctx.out

    def route(self, ctx: Context, event: Event) -> None:
        registry = self.registry
        if isinstance(event, Command):
            handler = registry.commands.get(event.name)
            link = registry.deep_link(event)
            if link is not None:
                link[0](ctx, link[1])
            elif event.name in CONVERSATION_COMMANDS:
                conversation.drive(ctx, registry.open_flow(ctx.user), event)
            elif handler is not None:
                handler(ctx, event)
            else:
                ctx.reply(Reply("errors.unknown_command", {"command": event.name}))
        elif isinstance(event, Tap) and event.scope != CONVERSATION_SCOPE:
            on_tap = registry.scopes.get(event.scope)
            if on_tap is None:
                ctx.notice("errors.button_invalid", alert=True)
            else:
                on_tap(ctx, event)
        elif isinstance(event, Tap) and event.nonce != ctx.user.nonce:
            stale = event.action in registry.buttons
            ctx.notice("errors.button_stale" if stale else "errors.button_invalid", alert=True)
        else:
            conversation.drive(ctx, registry.open_flow(ctx.user), event)

    def _open_task(self, ctx: Context, flow: str, data: Mapping[str, Any]) -> None:
        task.start(ctx, self.registry.flows[flow], data)

    def _refresh(self, stored: UserRecord | None, inbound: Inbound, now: datetime) -> UserRecord:
        """The user's row; a newcomer gets one, in the language Telegram reports for them."""
        language = resolve_language(
            inbound.user.language_code, self.rules.catalog.codes, self.default_language
        )
        if stored is None:
            return UserRecord(
                user_id=inbound.user.id, language=language, created_at=now, updated_at=now
            )
        changes: dict[str, object] = {}
        if not stored.language_chosen and stored.language != language:
            changes["language"] = language
        if stored.blocked_bot:  # they wrote to us: they unblocked the bot
            changes["blocked_bot"] = False
        return stored.model_copy(update=changes) if changes else stored
