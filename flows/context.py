"""`Context`: everything one update's handlers may use, inside its one transaction.

Handlers are plain functions `(ctx, event) -> None` that read `ctx.user`, replace it with a
changed copy, write through `ctx.tx`, and append to `ctx.out`. The engine saves the user and
commits once they return. `notify` writes to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flows.catalog import Catalog
from flows.ports import Tx
from flows.records import AuditEntry, Notification, Task, UserRecord
from flows.replies import DomainEvent, Notice, Outcome, Reply, params_to_json


def notification(user_id: int, key: str, now: datetime, **params: Any) -> Notification:
    return Notification(user_id=user_id, key=key, params=params_to_json(params), created_at=now)


@dataclass(frozen=True)
class Rules:
    """The desk's configuration, built once at start-up.

    `default_language` (DEFAULT_LANGUAGE) is for people whose Telegram language the catalog
    does not list; empty means the catalog's first language.
    """

    catalog: Catalog
    new_number: Callable[[datetime], str]  # draws a random, readable number
    default_language: str = ""
    operators: frozenset[int] = frozenset()
    retention_days: int = 180  # personal data of a closed complaint is erased after this

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)

    def __post_init__(self) -> None:
        language = self.catalog.default_language(self.default_language)
        object.__setattr__(self, "default_language", language)


def _no_tasks(ctx: Context, flow: str, data: Mapping[str, Any]) -> None:
    raise LookupError(f"no task flow {flow!r} here")


@dataclass
class Context:
    """One update: its transaction, time, rules, the sender's row as it changes, and what it
    produced. `open_task` is the engine's: it opens any registered task by name."""

    tx: Tx
    now: datetime
    rules: Rules
    user: UserRecord
    out: Outcome
    nonce_bump: bool = field(default=False)
    task_opener: Callable[[Context, str, Mapping[str, Any]], None] = _no_tasks

    @property
    def catalog(self) -> Catalog:
        return self.rules.catalog

    @property
    def is_operator(self) -> bool:
        return self.user.user_id in self.rules.operators

    def reply(self, reply: Reply) -> None:
        self.out.replies.append(reply)

    def notice(self, key: str, *, alert: bool = False, **params: Any) -> None:
        self.out.notice = Notice(key, params, alert)

    def event(self, name: str, **data: Any) -> None:
        self.out.events.append(DomainEvent(name, data))

    def notify(self, user_id: int, key: str, **params: Any) -> None:
        """Tell someone else (durably: the outbox row commits with this update)."""
        self.tx.enqueue(notification(user_id, key, self.now, **params))
        self.out.notified = True

    def audit(
        self, action: str, subject: str = "", detail: str = "", *, repeated: bool = False
    ) -> None:
        """Write an audit entry; `repeated`: equal ones of a minute share one counted row."""
        entry = AuditEntry(
            at=self.now, actor=self.user.user_id, action=action, subject=subject, detail=detail
        )
        (self.tx.audit_repeated if repeated else self.tx.audit)(entry)

    def update(self, **changes: Any) -> None:
        self.user = self.user.model_copy(update=changes)

    def open_task(self, flow: str, data: Mapping[str, Any]) -> None:
        """Open the task named `flow` with `data` and ask its first question."""
        self.task_opener(self, flow, data)

    def set_task(self, task: Task | None) -> None:
        """Open, move or end a task; buttons drawn for its previous prompt become stale."""
        self.update(task=task)
        self.nonce_bump = True

    def refuse_non_operator(self, what: str, subject: str = "") -> bool:
        """True (and refused, logged, audited; under `subject`, the complaint or request a
        button named, when there is one) unless the sender is an operator. Refusals repeated
        within a minute are one audit row with their count (a flood stays bounded)."""
        if self.is_operator:
            return False
        self.audit("refused", subject=subject, detail=what, repeated=True)
        self.event("operator.refused", user_id=self.user.user_id, what=what)
        self.reply(Reply("errors.not_operator"))
        return True
