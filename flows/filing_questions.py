"""What each state of the filing conversation asks: the menu, the type buttons, the guidance,
the evidence checklist, the review and the last warning, each with its buttons."""

from __future__ import annotations

from flows.evidence import counts, kinds_list
from flows.explain import type_rule
from flows.filing_model import FilingModel, FilingState
from flows.replies import Button, Ref, Reply

_CANCEL = Button("filing.button.cancel", "cancel")
_BACK = Button("filing.button.back", "back")


def evidence_status(m: FilingModel) -> Reply:
    """The evidence checklist: what arrived, what is still missing, and the buttons to go on."""
    assert m.draft is not None
    rule = m.ctype.evidence
    count = len(m.draft.evidence)
    received = counts(m.draft.evidence)
    missing = max(rule.min_count - count, 0)
    return Reply(
        "filing.evidence_status",
        {
            "received": received,
            "count": count,
            "max": rule.max_count,
            "still": Ref("filing.evidence_need", {"n": missing})
            if missing
            else Ref("filing.evidence_enough"),
            "kinds": kinds_list(rule.kinds),
            "hint": rule.hint.as_dict(),
        },
        buttons=(
            (Button("filing.button.done", "done"), Button("filing.button.undo", "undo")),
            (_BACK, _CANCEL),
        ),
    )


def prompt(m: FilingModel) -> Reply:
    """The question the current state asks, with its buttons."""
    state, catalog = m.state, m.catalog
    if state is FilingState.IDLE:
        return Reply(
            "menu.welcome",
            buttons=(
                (Button("menu.button.file", "file"),),
                (
                    Button("menu.button.mycomplaints", "mine", "0", scope="c"),
                    Button("menu.button.guide", "index", scope="g"),
                ),
                (
                    Button("menu.button.settings", "settings", scope="m"),
                    Button("menu.button.language", "language", scope="m"),
                ),
            ),
        )
    if state is FilingState.CHOOSING_TYPE:
        types = [
            Button("filing.button.type", "choose", t.id, {"title": t.title.as_dict()})
            for t in catalog.types
        ]
        rows = tuple(tuple(types[i : i + 2]) for i in range(0, len(types), 2))
        return Reply("filing.choose_type", buttons=(*rows, (_CANCEL,)))
    ctype = m.ctype
    if state is FilingState.READING_GUIDANCE:
        warning = ctype.warning.as_dict() if ctype.warning else Ref("filing.no_warning")
        return Reply(
            "filing.guidance",
            {
                "title": ctype.title.as_dict(),
                "summary": ctype.summary.as_dict(),
                "prepare": ctype.prepare.as_dict(),
                "evidence": ctype.evidence.hint.as_dict(),
                "rule": type_rule(ctype, catalog.limits),
                "warning": warning,
                "disclaimer": catalog.disclaimer.as_dict(),
            },
            buttons=((Button("filing.button.proceed", "proceed"),), (_BACK, _CANCEL)),
        )
    if state is FilingState.ENTERING_TARGET:
        return Reply(
            "filing.ask_target", {"prompt": ctype.target.prompt.as_dict()}, ((_BACK, _CANCEL),)
        )
    if state is FilingState.COLLECTING_EVIDENCE:
        return evidence_status(m)
    if state is FilingState.DESCRIBING:
        limits = catalog.limits
        return Reply(
            "filing.ask_description",
            {"min": limits.description_min, "max": limits.description_max},
            ((_BACK, _CANCEL),),
        )
    assert m.draft is not None
    summary = {
        "type": ctype.title.as_dict(),
        "target": m.draft.target or "",
        "evidence": counts(m.draft.evidence),
        "description": m.draft.description or "",
        "rule": type_rule(ctype, catalog.limits),
    }
    if state is FilingState.REVIEWING:
        return Reply(
            "filing.review",
            summary,
            buttons=(
                (Button("filing.button.submit", "submit"),),
                (
                    Button("filing.button.edit_target", "edit", "target"),
                    Button("filing.button.edit_evidence", "edit", "evidence"),
                ),
                (Button("filing.button.edit_description", "edit", "description"), _CANCEL),
            ),
        )
    warning = ctype.warning.as_dict() if ctype.warning else Ref("filing.no_warning")
    return Reply(
        "filing.confirm_warning",
        {**summary, "warning": warning},
        buttons=((Button("filing.button.confirm", "confirm"),), (_BACK,)),
    )
