"""The filing conversation's machine: choose a type, read what to prepare, name the target, send
evidence, describe, review, confirm (twice, by default) and receive a complaint number.

One `Machine` for the whole process, built once (`MACHINE`), never bound to a model: each update
builds a throwaway `FilingModel` from the user's row, fires one trigger on it and is discarded.
Guards are pure predicates over the model and the trigger's keyword arguments; callbacks only
change the model and append replies. No I/O happens here: what the guards need from the
database (is this a duplicate? a fresh complaint number) arrives precomputed in `Facts`
(looked up by `flows.filing`, which runs this machine on the conversation driver).

Rows for one trigger and source are tried in order: a guarded row that moves on, then a
fallback row with `dest=None` that explains what was wrong and keeps the state.
"""

from __future__ import annotations

from typing import Any, cast

from transitions import EventData

from flows.complaints import target_key
from flows.evidence import kinds_list, too_big
from flows.explain import type_rule
from flows.filing_model import DRAFTING, FilingModel, FilingState
from flows.machines import shared_machine, validator
from flows.records import ComplaintRecord, Draft, EvidenceItem, EvidenceKind
from flows.replies import Button, DomainEvent, Notice, Ref, Reply

# -- guards ------------------------------------------------------------------------------------


def _m(ev: EventData) -> FilingModel:
    return cast(FilingModel, ev.model)


def known_type(ev: EventData) -> bool:
    return _m(ev).catalog.type(ev.kwargs.get("arg")) is not None


def editing(ev: EventData) -> bool:
    draft = _m(ev).draft
    return draft is not None and draft.editing


def target_ok(ev: EventData) -> bool:
    m = _m(ev)
    return m.ctype.target.accepts(ev.kwargs["text"]) and m.facts.duplicate_of is None


def not_duplicate(ev: EventData) -> bool:
    return _m(ev).facts.duplicate_of is None


def confirm_twice(ev: EventData) -> bool:
    return _m(ev).user.confirm_twice


def evidence_problem(ev: EventData) -> Ref | None:
    """Why this piece of evidence cannot be taken, or None if it can."""
    m = _m(ev)
    rule, limits, draft = m.ctype.evidence, m.catalog.limits, m.draft
    assert draft is not None
    item: EvidenceItem = ev.kwargs["item"]
    if item.kind not in rule.kinds:
        return Ref("filing.evidence_wrong_kind", {"kinds": kinds_list(rule.kinds)})
    if len(draft.evidence) >= rule.max_count:
        return Ref("filing.evidence_full", {"max": rule.max_count})
    if (big := too_big(item.size, limits.max_file_bytes)) is not None:
        return big
    if item.kind in (EvidenceKind.TEXT, EvidenceKind.FORWARD) and item.file_id is None:
        if not item.text.strip():
            return Ref("filing.evidence_empty_text")
        if len(item.text) > limits.text_record_max:
            return Ref("filing.evidence_text_too_long", {"max": limits.text_record_max})
    if item.file_unique_id and any(e.file_unique_id == item.file_unique_id for e in draft.evidence):
        return Ref("filing.evidence_same_file")
    return None


evidence_ok, evidence_rejected = validator(evidence_problem)


def enough_evidence(ev: EventData) -> bool:
    m = _m(ev)
    assert m.draft is not None
    return len(m.draft.evidence) >= m.ctype.evidence.min_count


def description_ok(ev: EventData) -> bool:
    limits = _m(ev).catalog.limits
    return limits.description_min <= len(ev.kwargs["text"].strip()) <= limits.description_max


def edit_step(step: str) -> Any:
    def guard(ev: EventData) -> bool:
        return bool(ev.kwargs.get("arg") == step)

    guard.__name__ = f"edit_{step}"
    return guard


# -- callbacks ---------------------------------------------------------------------------------


def _set_draft(m: FilingModel, **changes: Any) -> None:
    assert m.draft is not None
    m.draft = m.draft.model_copy(update=changes)


def new_draft(ev: EventData) -> None:
    m = _m(ev)
    m.draft = Draft(started_at=m.now)


def set_type(ev: EventData) -> None:
    _set_draft(_m(ev), type_id=ev.kwargs["arg"])


def unknown_type(ev: EventData) -> None:
    _m(ev).replies.append(Notice("filing.unknown_type", alert=True))


def set_target(ev: EventData) -> None:
    _set_draft(_m(ev), target=ev.kwargs["text"].strip(), editing=False)


def target_rejected(ev: EventData) -> None:
    m = _m(ev)
    if m.facts.duplicate_of is not None:
        m.replies.append(Reply("filing.duplicate", {"number": m.facts.duplicate_of}))
    else:
        m.replies.append(Reply("filing.target_invalid", {"hint": m.ctype.target.invalid.as_dict()}))


def add_evidence(ev: EventData) -> None:
    m = _m(ev)
    assert m.draft is not None
    item: EvidenceItem = ev.kwargs["item"]
    group = item.media_group_id
    same_album = group is not None and any(e.media_group_id == group for e in m.draft.evidence)
    _set_draft(m, evidence=(*m.draft.evidence, item))
    m.ask_again = not same_album  # an album arrives as one update per file: acknowledge it once


def undo_evidence(ev: EventData) -> None:
    m = _m(ev)
    assert m.draft is not None
    if m.draft.evidence:
        _set_draft(m, evidence=m.draft.evidence[:-1])
    m.ask_again = True


def evidence_missing(ev: EventData) -> None:
    m = _m(ev)
    m.replies.append(Notice("filing.evidence_not_enough", {"n": m.ctype.evidence.min_count}))


def set_description(ev: EventData) -> None:
    _set_draft(_m(ev), description=ev.kwargs["text"].strip(), editing=False)


def description_rejected(ev: EventData) -> None:
    limits = _m(ev).catalog.limits
    m = _m(ev)
    m.replies.append(
        Reply(
            "filing.description_invalid",
            {
                "min": limits.description_min,
                "max": limits.description_max,
                "length": len(ev.kwargs["text"].strip()),
            },
        )
    )


def start_editing(ev: EventData) -> None:
    _set_draft(_m(ev), editing=True)


def stop_editing(ev: EventData) -> None:
    _set_draft(_m(ev), editing=False)


def file_complaint(ev: EventData) -> None:
    """Turn the draft into a complaint (the engine stores it in the same transaction)."""
    m = _m(ev)
    draft, number = m.draft, m.facts.number
    assert draft is not None
    assert draft.target is not None
    assert number is not None
    m.submit = True
    m.result = ComplaintRecord(
        number=number,
        user_id=m.user.user_id,
        type_id=m.ctype.id,
        target=draft.target,
        target_key=target_key(draft.target),
        description=draft.description or "",
        evidence=draft.evidence,
        language=m.user.language,
        submitted_at=m.now,
    )
    m.replies.append(
        Reply(
            "filing.submitted",
            {
                "number": number,
                "type": m.ctype.title.as_dict(),
                "rule": type_rule(m.ctype, m.catalog.limits),
            },
        )
    )
    m.replies.append(
        DomainEvent(
            "complaint.submitted",
            {"number": number, "type": m.ctype.id, "user_id": m.user.user_id},
        )
    )
    m.draft = None


def duplicate_refused(ev: EventData) -> None:
    m = _m(ev)
    m.replies.append(Reply("filing.duplicate", {"number": m.facts.duplicate_of}))


def cancelled(ev: EventData) -> None:
    m = _m(ev)
    m.draft = None
    m.replies.append(Reply("filing.cancelled"))


def ask_discard(ev: EventData) -> None:
    """Cancelling a draft with content (`WITH_CONTENT`): say what would be lost; a second tap
    discards it."""
    m = _m(ev)
    m.replies.append(
        Reply(
            "filing.discard_confirm",
            {"step": Ref(f"filing.step.{m.state.value}")},
            buttons=(
                (Button("filing.button.discard", "discard"),),
                (Button("filing.button.keep", "resume"),),
            ),
        )
    )


def ask_start_over(ev: EventData) -> None:
    """Starting over discards the draft: a second tap does it."""
    _m(ev).replies.append(
        Reply(
            "filing.start_over_confirm",
            buttons=(
                (Button("filing.button.start_over_yes", "start_over_yes"),),
                (Button("filing.button.keep", "resume"),),
            ),
        )
    )


def nothing_to_cancel(ev: EventData) -> None:
    _m(ev).replies.append(Reply("errors.nothing_to_cancel"))


def offer_resume(ev: EventData) -> None:
    m = _m(ev)
    m.replies.append(
        Reply(
            "filing.resume_offer",
            {"step": Ref(f"filing.step.{m.state.value}")},
            buttons=(
                (Button("filing.button.resume", "resume"),),
                (Button("filing.button.start_over", "start_over"),),
                (Button("filing.button.cancel", "cancel"),),
            ),
        )
    )


def ask_again(ev: EventData) -> None:
    """The state's question once more (the menu when idle, the step's prompt when resuming)."""
    _m(ev).ask_again = True


# -- the table ---------------------------------------------------------------------------------

IDLE, TYPE, GUIDE, TARGET, EVIDENCE, DESCRIBE, REVIEW, CONFIRM = FilingState
# From the evidence step on, the draft holds what the person typed or sent (the target at least):
# discarding it (cancel, start over) takes a second tap there; before, it is one tap.
EARLY = [TYPE, GUIDE, TARGET]
WITH_CONTENT = [EVIDENCE, DESCRIBE, REVIEW, CONFIRM]
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "start", "source": IDLE, "dest": None, "after": ask_again},
    {"trigger": "start", "source": DRAFTING, "dest": None, "after": offer_resume},
    {"trigger": "resume", "source": DRAFTING, "dest": None, "after": ask_again},
    {"trigger": "start_over", "source": EARLY, "dest": TYPE, "before": new_draft},
    {"trigger": "start_over", "source": WITH_CONTENT, "dest": None, "after": ask_start_over},
    {"trigger": "start_over_yes", "source": WITH_CONTENT, "dest": TYPE, "before": new_draft},
    {"trigger": "file", "source": IDLE, "dest": TYPE, "before": new_draft},
    {"trigger": "choose", "source": TYPE, "dest": GUIDE, "conditions": known_type, "before": set_type},
    {"trigger": "choose", "source": TYPE, "dest": None, "after": unknown_type},
    {"trigger": "proceed", "source": GUIDE, "dest": TARGET},
    {"trigger": "back", "source": GUIDE, "dest": TYPE},
    {"trigger": "text", "source": TARGET, "dest": REVIEW, "conditions": [target_ok, editing], "before": set_target},
    {"trigger": "text", "source": TARGET, "dest": EVIDENCE, "conditions": target_ok, "before": set_target},
    {"trigger": "text", "source": TARGET, "dest": None, "after": target_rejected},
    {"trigger": "back", "source": [TARGET, EVIDENCE, DESCRIBE], "dest": REVIEW, "conditions": editing, "before": stop_editing},
    {"trigger": "back", "source": TARGET, "dest": GUIDE},
    {"trigger": "evidence", "source": EVIDENCE, "dest": None, "conditions": evidence_ok, "after": add_evidence},
    {"trigger": "evidence", "source": EVIDENCE, "dest": None, "after": evidence_rejected},
    {"trigger": "undo", "source": EVIDENCE, "dest": None, "after": undo_evidence},
    {"trigger": "done", "source": EVIDENCE, "dest": REVIEW, "conditions": [enough_evidence, editing], "before": stop_editing},
    {"trigger": "done", "source": EVIDENCE, "dest": DESCRIBE, "conditions": enough_evidence},
    {"trigger": "done", "source": EVIDENCE, "dest": None, "after": evidence_missing},
    {"trigger": "back", "source": EVIDENCE, "dest": TARGET},
    {"trigger": "text", "source": DESCRIBE, "dest": REVIEW, "conditions": description_ok, "before": set_description},
    {"trigger": "text", "source": DESCRIBE, "dest": None, "after": description_rejected},
    {"trigger": "back", "source": DESCRIBE, "dest": EVIDENCE},
    {"trigger": "edit", "source": REVIEW, "dest": TARGET, "conditions": edit_step("target"), "before": start_editing},
    {"trigger": "edit", "source": REVIEW, "dest": EVIDENCE, "conditions": edit_step("evidence"), "before": start_editing},
    {"trigger": "edit", "source": REVIEW, "dest": DESCRIBE, "conditions": edit_step("description"), "before": start_editing},
    {"trigger": "back", "source": REVIEW, "dest": DESCRIBE},
    {"trigger": "submit", "source": REVIEW, "dest": CONFIRM, "conditions": [not_duplicate, confirm_twice]},
    {"trigger": "submit", "source": REVIEW, "dest": IDLE, "conditions": not_duplicate, "before": file_complaint},
    {"trigger": "submit", "source": REVIEW, "dest": None, "after": duplicate_refused},
    {"trigger": "confirm", "source": CONFIRM, "dest": IDLE, "conditions": not_duplicate, "before": file_complaint},
    {"trigger": "confirm", "source": CONFIRM, "dest": REVIEW, "before": duplicate_refused},
    {"trigger": "back", "source": CONFIRM, "dest": REVIEW},
    {"trigger": "cancel", "source": EARLY, "dest": IDLE, "before": cancelled},
    {"trigger": "cancel", "source": WITH_CONTENT, "dest": None, "after": ask_discard},
    {"trigger": "discard", "source": WITH_CONTENT, "dest": IDLE, "before": cancelled},
    {"trigger": "cancel", "source": IDLE, "dest": None, "after": nothing_to_cancel},
]  # fmt: skip

MACHINE = shared_machine(FilingState, TRANSITIONS)

# Triggers that a button may fire; anything else in callback data is forged.
BUTTONS = frozenset(
    {"file", "choose", "proceed", "back", "undo", "done", "edit", "submit", "confirm"}
    | {"cancel", "resume", "start_over", "start_over_yes", "discard"}
)
