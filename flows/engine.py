"""The engine: one update, one transaction.

`Desk.handle(tx, inbound, now)` is called by the storage layer inside one write transaction
(one thread hop): it records the update id (a redelivered update stops here), loads the user's
row, routes the event to its handler, saves the row with a version check, and returns an
`Outcome` whose replies the adapter sends only after the transaction committed.

Routing, in order:
- a command goes to its handler (`COMMANDS`); /start and /cancel belong to the conversation;
- a stateless button goes to the handler of its scope (`SCOPES`: guide, menu, complaints...);
- a conversation button (scope "f", checked against the prompt nonce), a text or a file goes
  to the open task if there is one (`TASKS`), else to the filing flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flows import broadcast, complaints, filing, follow, guide, operator, revoke, settings
from flows.context import Context, Rules
from flows.events import Command, Event, Forward, Inbound, Media, Tap, Text, Unsupported
from flows.evidence import evidence_item
from flows.filing import Facts, FilingModel, S
from flows.language import resolve_language
from flows.ports import Tx
from flows.records import UserRecord
from flows.replies import DomainEvent, Notice, Outcome, Ref, Reply

Handler = Callable[[Context, Event], None]
TapHandler = Callable[[Context, Tap], None]
CommandHandler = Callable[[Context, Command], None]

COMMANDS: dict[str, CommandHandler] = {
    "guide": lambda ctx, _: ctx.reply(guide.guide_index()),
    "help": lambda ctx, _: ctx.reply(guide.guide_index()),
    "language": lambda ctx, _: ctx.reply(settings.language_menu()),
    "settings": lambda ctx, _: ctx.reply(settings.settings_menu(ctx.user)),
    "mycomplaints": follow.list_command,
    "queue": operator.queue_command,
    "open": operator.open_command,
    "requests": operator.requests_command,
    "broadcast": broadcast.command,
    "broadcasts": broadcast.list_command,
}
SCOPES: dict[str, TapHandler] = {
    "g": guide.on_tap,
    "m": settings.on_tap,
    "c": follow.on_tap,
    "o": operator.on_tap,
    "b": broadcast.on_tap,
}
TASKS: dict[str, Handler] = {
    revoke.FLOW: revoke.on_event,
    operator.FLOW: operator.on_event,
    broadcast.FLOW: broadcast.on_event,
}
# The commands shown in Telegram's menu, in order.
MENU_COMMANDS = ("start", "mycomplaints", "guide", "settings", "language", "cancel")
OPERATOR_COMMANDS = ("queue", "open", "requests", "broadcast", "broadcasts")  # operators' chats


@dataclass(frozen=True)
class Desk:
    """The desk's rules plus the engine. Built once at start-up."""

    rules: Rules

    @property
    def default_language(self) -> str:
        return self.rules.default_language

    def handle(self, tx: Tx, inbound: Inbound, now: datetime) -> Outcome:
        """Run one update: claim it, load the user, route, save. Called inside a transaction."""
        if not tx.claim_update(inbound.update_id, now):
            return Outcome(language=self.default_language, duplicate=True)
        stored = tx.load_user(inbound.user.id)
        user = self._refresh(stored, inbound, now)
        ctx = Context(tx, now, self.rules, user, Outcome(language=user.language, nonce=user.nonce))
        route(ctx, inbound.event)
        user = ctx.user
        if ctx.nonce_bump:
            user = user.model_copy(update={"nonce": user.nonce + 1})
        if user != stored:
            saved = user.model_copy(update={"version": user.version + 1, "updated_at": now})
            tx.save_user(saved, expected_version=stored.version if stored else 0)
        ctx.out.language, ctx.out.nonce = user.language, user.nonce
        return ctx.out

    def _refresh(self, stored: UserRecord | None, inbound: Inbound, now: datetime) -> UserRecord:
        """The user's row; a newcomer gets one, in the language Telegram reports for them."""
        language = resolve_language(inbound.user.language_code, self.default_language)
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


def route(ctx: Context, event: Event) -> None:
    task = ctx.user.task
    if isinstance(event, Command):
        if event.name in ("start", "cancel") and task is not None:
            task_command(ctx, event)
        elif event.name in ("start", "cancel"):
            run_filing(ctx, event)
        elif event.name in COMMANDS:
            COMMANDS[event.name](ctx, event)
        else:
            ctx.reply(Reply("errors.unknown_command", {"command": event.name}))
        return
    if isinstance(event, Tap) and event.scope != "f":
        handler = SCOPES.get(event.scope)
        if handler is None:
            ctx.notice("errors.button_invalid", alert=True)
        else:
            handler(ctx, event)
        return
    if isinstance(event, Tap) and event.nonce != ctx.user.nonce:
        is_known = event.action in filing.BUTTON_TRIGGERS or any(
            event.action in actions for actions in TASK_BUTTONS.values()
        )
        ctx.notice("errors.button_stale" if is_known else "errors.button_invalid", alert=True)
        return
    if task is not None:
        TASKS[task.flow](ctx, event)
    else:
        run_filing(ctx, event)


TASK_BUTTONS: dict[str, frozenset[str]] = {
    revoke.FLOW: revoke.BUTTONS,
    operator.FLOW: operator.BUTTONS,
    broadcast.FLOW: broadcast.BUTTONS,
}


def task_command(ctx: Context, command: Command) -> None:
    """/cancel ends the open task (the filing draft stays); /start repeats its question."""
    task = ctx.user.task
    assert task is not None
    if command.name == "cancel":
        ctx.set_task(None)
        ctx.reply(Reply("task.cancelled", {"step": Ref(f"task.{task.flow}")}))
        return
    ctx.reply(Reply("task.in_progress", {"step": Ref(f"task.{task.flow}")}))
    TASKS[task.flow](ctx, Command("repeat"))


# -- the filing flow ---------------------------------------------------------------------------


def run_filing(ctx: Context, event: Event) -> None:
    user = ctx.user
    trigger, kwargs = filing_trigger(ctx, event)
    if trigger is None:
        return
    facts = filing_facts(ctx, trigger, kwargs)
    model = FilingModel(user, ctx.catalog, ctx.now, facts)
    if not filing.fire(model, trigger, **kwargs):
        out_of_place(ctx, model, event)
        return
    if model.complaint is not None:
        ctx.tx.insert_complaint(complaints.with_deadlines(model.complaint, ctx.catalog))
    state_changed = model.state.value != user.state
    if state_changed:  # a new ctx: ask its question (with buttons for the new nonce)
        model.replies.append(filing.prompt(model))
    collect(model.replies, ctx.out)
    ctx.update(state=model.state.value, draft=model.draft)
    ctx.nonce_bump |= state_changed


def filing_trigger(ctx: Context, event: Event) -> tuple[str | None, dict[str, object]]:
    """Which trigger an event fires in the user's filing state, with its arguments."""
    state = S(ctx.user.state)
    if isinstance(event, Command):
        return event.name, {}
    if isinstance(event, Tap):
        if event.action not in filing.BUTTON_TRIGGERS:
            ctx.notice("errors.button_invalid", alert=True)
            return None, {}
        return event.action, {"arg": event.arg}
    if state is S.COLLECTING_EVIDENCE and isinstance(event, Text | Media | Forward):
        body = event.text if isinstance(event, Text) else event
        return "evidence", {"item": evidence_item(body, ctx.now)}
    if isinstance(event, Text):
        return "text", {"text": event.text}
    return "unsupported", {"event": event}


def filing_facts(ctx: Context, trigger: str, kwargs: dict[str, object]) -> Facts:
    """Look up what this trigger's guards need: duplicates, and a number when submitting."""
    user = ctx.user
    draft, state = user.draft, S(user.state)
    if draft is None or draft.type_id is None:
        return Facts()
    target: str | None = None
    if state is S.ENTERING_TARGET and trigger == "text":
        target = str(kwargs["text"])
    elif (state, trigger) in ((S.REVIEWING, "submit"), (S.CONFIRMING, "confirm")):
        target = draft.target
    if target is None:
        return Facts()
    duplicate = ctx.tx.find_open_complaint(
        user.user_id, draft.type_id, complaints.target_key(target)
    )
    submitting = trigger == "confirm" or (trigger == "submit" and not user.confirm_twice)
    number = complaints.fresh_number(ctx) if submitting and duplicate is None else None
    return Facts(duplicate_of=duplicate, number=number)


def out_of_place(ctx: Context, model: FilingModel, event: Event) -> None:
    """The event means nothing in this state: say what the state expects; change nothing."""
    where = Ref(f"filing.step.{model.state.value}")
    if isinstance(event, Command):
        ctx.reply(Reply("errors.command_out_of_place", {"step": where}))
    elif isinstance(event, Tap):
        ctx.notice("errors.button_invalid", alert=True)
    elif isinstance(event, Unsupported):
        ctx.reply(Reply("errors.unsupported", {"step": where}))
    elif model.state is S.IDLE:
        ctx.reply(filing.prompt(model))
    elif isinstance(event, Text):
        ctx.reply(Reply("errors.use_buttons"))
        ctx.reply(filing.prompt(model))
    else:
        ctx.reply(Reply("errors.media_not_expected", {"step": where}))


def collect(items: list[Reply | Notice | DomainEvent], out: Outcome) -> None:
    for item in items:
        if isinstance(item, Reply):
            out.replies.append(item)
        elif isinstance(item, Notice):
            out.notice = item
        else:
            out.events.append(item)
