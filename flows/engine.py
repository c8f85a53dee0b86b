"""The engine: one update, one transaction.

`Desk.handle(tx, inbound, now)` is called by the storage layer inside one write transaction
(one thread hop): it records the update id (a redelivered update stops here), loads the user's
row, turns the event into a trigger, fires it on the shared machine, saves the row with a
version check and stores any new complaint. It returns an `Outcome` whose replies the adapter
sends only after the transaction committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flows import filing
from flows.catalog import Catalog
from flows.events import Command, Event, Forward, Inbound, Media, Tap, Text, Unsupported
from flows.filing import Facts, FilingModel, S
from flows.language import SUPPORTED, resolve_language
from flows.ports import Tx
from flows.records import UserRecord
from flows.replies import Button, DomainEvent, Notice, Outcome, Ref, Reply

# The commands a person can send at any time; the menu of Telegram's command list.
COMMANDS = ("start", "cancel", "guide", "settings", "language", "help")


@dataclass(frozen=True)
class Desk:
    """The desk's rules, built once at start-up. `new_number(now)` draws a complaint number."""

    catalog: Catalog
    new_number: Callable[[datetime], str]
    default_language: str = "zh-CN"

    def handle(self, tx: Tx, inbound: Inbound, now: datetime) -> Outcome:
        """Run one update: claim it, load the user, fire, save. Called inside a transaction."""
        if not tx.claim_update(inbound.update_id, now):
            return Outcome(language=self.default_language, duplicate=True)
        stored = tx.load_user(inbound.user.id)
        user = self._refresh(stored, inbound, now)
        outcome = Outcome(language=user.language, nonce=user.nonce)
        user = self._dispatch(tx, user, inbound.event, now, outcome)
        if user != stored:
            saved = user.model_copy(update={"version": user.version + 1, "updated_at": now})
            tx.save_user(saved, expected_version=stored.version if stored else 0)
        outcome.language, outcome.nonce = user.language, user.nonce
        return outcome

    # -- users -------------------------------------------------------------------------------

    def _refresh(self, stored: UserRecord | None, inbound: Inbound, now: datetime) -> UserRecord:
        """The user's row; a newcomer gets one, in the language Telegram reports for them."""
        language = resolve_language(inbound.user.language_code, self.default_language)
        if stored is None:
            return UserRecord(
                user_id=inbound.user.id, language=language, created_at=now, updated_at=now
            )
        if not stored.language_chosen and stored.language != language:
            return stored.model_copy(update={"language": language})
        return stored

    # -- events -> triggers ------------------------------------------------------------------

    def _dispatch(
        self, tx: Tx, user: UserRecord, event: Event, now: datetime, out: Outcome
    ) -> UserRecord:
        if isinstance(event, Tap) and event.scope != "f":
            return self._stateless_tap(user, event, out)
        if isinstance(event, Command) and event.name not in ("start", "cancel"):
            return self._command(user, event, out)
        trigger, kwargs = self._trigger_for(user, event, now, out)
        if trigger is None:
            return user
        facts = self._facts(tx, user, trigger, kwargs, now)
        model = FilingModel(user, self.catalog, now, facts)
        if not filing.fire(model, trigger, **kwargs):
            self._out_of_place(model, event, out)
            return user
        if model.complaint is not None:
            tx.insert_complaint(model.complaint)
        state_changed = model.state.value != user.state
        if state_changed:  # a new step: ask its question (with buttons for the new nonce)
            model.replies.append(filing.prompt(model))
        self._collect(model.replies, out)
        return user.model_copy(
            update={
                "state": model.state.value,
                "draft": model.draft,
                "nonce": user.nonce + 1 if state_changed else user.nonce,
            }
        )

    def _trigger_for(
        self, user: UserRecord, event: Event, now: datetime, out: Outcome
    ) -> tuple[str | None, dict[str, object]]:
        """Which trigger an event fires in the user's state, with its arguments."""
        state = S(user.state)
        if isinstance(event, Command):
            return event.name, {}
        if isinstance(event, Tap):
            if event.action not in filing.BUTTON_TRIGGERS:
                out.notice = Notice("errors.button_invalid", alert=True)
                return None, {}
            if event.nonce != user.nonce:
                out.notice = Notice("errors.button_stale", alert=True)
                return None, {}
            return event.action, {"arg": event.arg}
        if state is S.COLLECTING_EVIDENCE and isinstance(event, Text | Media | Forward):
            body = event.text if isinstance(event, Text) else event
            return "evidence", {"item": filing.evidence_item(body, now)}
        if isinstance(event, Text):
            return "text", {"text": event.text}
        return "unsupported", {"event": event}

    def _facts(
        self, tx: Tx, user: UserRecord, trigger: str, kwargs: dict[str, object], now: datetime
    ) -> Facts:
        """Look up what this trigger's guards need: duplicates, and a number when submitting."""
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
        duplicate = tx.find_open_complaint(
            user.user_id, draft.type_id, filing.normalise_target(target)
        )
        submitting = trigger == "confirm" or (trigger == "submit" and not user.confirm_twice)
        number = self._fresh_number(tx, now) if submitting and duplicate is None else None
        return Facts(duplicate_of=duplicate, number=number)

    def _fresh_number(self, tx: Tx, now: datetime) -> str:
        for _ in range(8):
            number = self.new_number(now)
            if tx.get_complaint(number) is None:
                return number
        raise RuntimeError("could not draw an unused complaint number")  # pragma: no cover

    def _out_of_place(self, model: FilingModel, event: Event, out: Outcome) -> None:
        """The event means nothing in this state: say what the step expects; change nothing."""
        step = Ref(f"filing.step.{model.state.value}")
        if isinstance(event, Command):
            out.replies.append(Reply("errors.command_out_of_place", {"step": step}))
        elif isinstance(event, Tap):
            out.notice = Notice("errors.button_invalid", alert=True)
        elif isinstance(event, Unsupported):
            out.replies.append(Reply("errors.unsupported", {"step": step}))
        elif model.state is S.IDLE:
            out.replies.append(filing.prompt(model))
        elif isinstance(event, Text):
            out.replies.append(Reply("errors.use_buttons"))
            out.replies.append(filing.prompt(model))
        else:
            out.replies.append(Reply("errors.media_not_expected", {"step": step}))

    @staticmethod
    def _collect(items: list[Reply | Notice | DomainEvent], out: Outcome) -> None:
        for item in items:
            if isinstance(item, Reply):
                out.replies.append(item)
            elif isinstance(item, Notice):
                out.notice = item
            else:
                out.events.append(item)

    # -- settings, language, guide: preferences and pages, outside the filing flow ------------

    def _command(self, user: UserRecord, command: Command, out: Outcome) -> UserRecord:
        if command.name == "language":
            out.replies.append(language_menu())
        elif command.name == "settings":
            out.replies.append(settings_menu(user))
        elif command.name in ("guide", "help"):
            from flows.guide import guide_index

            out.replies.append(guide_index())
        else:
            out.replies.append(Reply("errors.unknown_command", {"command": command.name}))
        return user

    def _stateless_tap(self, user: UserRecord, tap: Tap, out: Outcome) -> UserRecord:
        from flows.guide import guide_index, guide_page

        out.notice = Notice("menu.ok")
        if tap.scope == "g":
            page = guide_index() if tap.action == "index" else None
            if tap.action == "page":
                page = guide_page(tap.arg, self.catalog, user.language)
            if page is None:
                out.notice = Notice("errors.button_invalid", alert=True)
            else:
                out.replies.append(page)
            return user
        if tap.action == "language" and not tap.arg:
            out.replies.append(language_menu())
            return user
        if tap.action == "language" and tap.arg in SUPPORTED:
            user = user.model_copy(update={"language": tap.arg, "language_chosen": True})
            out.replies.append(Reply("settings.language_set", edit=True))
            return user
        if tap.action == "settings":
            out.replies.append(settings_menu(user))
            return user
        if tap.action == "confirm_twice" and tap.arg in ("on", "off"):
            user = user.model_copy(update={"confirm_twice": tap.arg == "on"})
            out.replies.append(settings_menu(user, edit=True))
            return user
        out.notice = Notice("errors.button_invalid", alert=True)
        return user


def language_menu() -> Reply:
    return Reply(
        "settings.choose_language",
        buttons=(
            (
                Button("settings.button.zh", "language", "zh-CN", scope="m"),
                Button("settings.button.en", "language", "en", scope="m"),
            ),
        ),
    )


def settings_menu(user: UserRecord, *, edit: bool = False) -> Reply:
    toggle = "off" if user.confirm_twice else "on"
    return Reply(
        "settings.menu",
        {"confirm": Ref("settings.on" if user.confirm_twice else "settings.off")},
        buttons=(
            (Button(f"settings.button.confirm_{toggle}", "confirm_twice", toggle, scope="m"),),
        ),
        edit=edit,
    )
