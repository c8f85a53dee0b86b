"""Triage for operators: the queue in pages (most urgent first), filters on one screen, `/find`
and `/export`.

The queue lists every open complaint, ten a page, by the nearest deadline (review due, the
withdrawal window closing), each button short enough for a phone: the number, a one-word stage
and the time left. A filter and a page travel in the button's argument (`stage_pending.3`), so
a tap is answered from the database as it is now. `/find TEXT` searches numbers, authors' ids,
targets and descriptions. `/export [period] [stage]` checks its arguments here and hands the
work to the adapter (`export.requested`), which reads the rows in batches and sends a CSV file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.calendar import SHANGHAI
from flows.complaints import title
from flows.context import Context
from flows.events import Command
from flows.records import OPEN_STAGES, ComplaintRecord, Stage
from flows.replies import Button, Ref, Reply
from flows.timefmt import at, span

SCOPE = "o"
PAGE = 10
FIND_MAX = 100  # characters of a search text
FIND_RESULTS = 10
EXPORT_MAX_DAYS = 366
EXPORT_DEFAULT_DAYS = 30
INSTANT = timedelta(microseconds=1)  # periods ending now include what was filed this instant
STAGE_ORDER = tuple(s for s in Stage if s in OPEN_STAGES)


def _b(key: str, action: str, arg: str = "", **params: object) -> Button:
    return Button(key, action, arg, params, scope=SCOPE)


# -- the queue ---------------------------------------------------------------------------------


def parse_filter(ctx: Context, text: str) -> str | None:
    """A filter as a button argument ("all", "flagged", "stage_<stage>", "type_<type id>")
    from what an operator typed ("payment", "manual_review", "stage_accepted"...); None if
    it names nothing."""
    word = text.strip().lower().replace("-", "_").replace(" ", "_") or "all"
    stages = {s.value for s in OPEN_STAGES}
    if word in ("all", "flagged"):
        return word
    for prefix, known in (("stage_", stages), ("type_", {t.id for t in ctx.catalog.types})):
        if word.startswith(prefix) and word.removeprefix(prefix) in known:
            return word
    if word in stages:
        return f"stage_{word}"
    if ctx.catalog.type(word) is not None:
        return f"type_{word}"
    return None


def parse_page(ctx: Context, arg: str) -> tuple[str, int] | None:
    """A queue button's argument, "<filter>.<page>" (page from 0); None if forged."""
    wanted, _, page = arg.partition(".")
    found = parse_filter(ctx, wanted)
    if found is None or (page and not (page.isdigit() and len(page) <= 6)):
        return None
    return found, int(page or 0)


def _filter_name(ctx: Context, wanted: str) -> Ref:
    if wanted.startswith("stage_"):
        return Ref(f"stage.{wanted.removeprefix('stage_')}")
    if wanted.startswith("type_"):
        return Ref(
            "operator.filter.type", {"type": title(ctx.catalog, wanted.removeprefix("type_"))}
        )
    return Ref(f"operator.filter.{wanted}")


def _filters(wanted: str) -> tuple[Stage | None, str | None, bool | None]:
    """(stage, type id, flagged) of a filter argument checked by `parse_filter`."""
    kind, _, value = wanted.partition("_")
    stage = Stage(value) if kind == "stage" else None
    return stage, value if kind == "type" else None, True if kind == "flagged" else None


def queue_view(ctx: Context, wanted: str, page: int = 0, *, edit: bool = False) -> Reply:
    """One page of the queue: a short button per complaint, then paging and filters."""
    stage, type_id, flagged = _filters(wanted)
    total = ctx.tx.queue_count(stage=stage, type_id=type_id, flagged=flagged)
    pages = max((total + PAGE - 1) // PAGE, 1)
    page = min(page, pages - 1)
    items = ctx.tx.queue(
        stage=stage, type_id=type_id, flagged=flagged, limit=PAGE, offset=page * PAGE, now=ctx.now
    )
    rows: list[tuple[Button, ...]] = [(item_button(ctx, c),) for c in items]
    if pages > 1:
        rows.append(
            (
                _b("operator.button.prev", "queue", f"{wanted}.{max(page - 1, 0)}"),
                _b("operator.button.page", "queue", f"{wanted}.{page}", page=page + 1, pages=pages),
                _b("operator.button.next", "queue", f"{wanted}.{min(page + 1, pages - 1)}"),
            )
        )
    rows.append(
        (_b("operator.button.filters", "filters"), _b("operator.button.requests", "requests"))
    )
    params = {"filter": _filter_name(ctx, wanted), "count": total, "page": page + 1, "pages": pages}
    params["waiting"] = Ref("operator.waiting", {"n": len(ctx.tx.deferred_notifications())})
    key = "operator.queue" if items else "operator.queue_empty"
    return Reply(key, params, tuple(rows), edit=edit)


def item_button(ctx: Context, complaint: ComplaintRecord) -> Button:
    """ "261123-ABCD-0001 · manual · ⏰ 1 h 5 min": number, stage in a word, time left."""
    return _b(
        "operator.button.item",
        "open",
        complaint.number,
        number=complaint.number,
        stage=Ref(f"stage.short.{complaint.stage}"),
        due=due(ctx, complaint),
    )


def due(ctx: Context, complaint: ComplaintRecord) -> Ref:
    """The nearest deadline still ahead: the review, or the end of the withdrawal window."""
    window = complaint.revocable_until
    if window is not None and window <= ctx.now:
        window = None
    review = complaint.review_due_at
    if review is not None and (window is None or review <= window):
        return Ref("operator.due.review", {"left": span(review - ctx.now)})
    if window is not None:
        return Ref("operator.due.window", {"left": span(window - ctx.now)})
    return Ref("operator.due.none")


def filters_view(ctx: Context) -> Reply:
    """Every filter on one phone screen: short labels, three a row."""
    stages = [
        _b("operator.button.filter", "queue", f"stage_{s}", name=Ref(f"stage.short.{s}"))
        for s in STAGE_ORDER
    ]
    types = [
        _b("operator.button.filter", "queue", f"type_{t.id}", name=(t.short or t.title).as_dict())
        for t in ctx.catalog.types
    ]
    rows = [
        (
            _b("operator.filter.all", "queue", "all"),
            _b("operator.filter.flagged", "queue", "flagged"),
        ),
        *_in_rows(stages, 3),
        *_in_rows(types, 3),
    ]
    return Reply("operator.filters", buttons=tuple(rows), edit=True)


def _in_rows(buttons: list[Button], size: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + size]) for i in range(0, len(buttons), size)]


def queue_command(ctx: Context, command: Command) -> None:
    """/queue [all | flagged | <stage> | <type>]: open complaints, most urgent first."""
    if ctx.refuse_non_operator("/queue"):
        return
    wanted = parse_filter(ctx, command.args)
    if wanted is None:
        ctx.reply(Reply("operator.queue_bad_filter", {"filter": command.args.strip()[:40]}))
        wanted = "all"
    ctx.reply(queue_view(ctx, wanted))


# -- /find ---------------------------------------------------------------------------------------


def find_command(ctx: Context, command: Command) -> None:
    """/find TEXT: by number, the author's user id, the target or the description."""
    if ctx.refuse_non_operator("/find"):
        return
    text = " ".join(command.args.split())
    if not text:
        ctx.reply(Reply("operator.find_usage"))
        return
    if len(text) > FIND_MAX:
        ctx.reply(Reply("operator.find_too_long", {"max": FIND_MAX, "length": len(text)}))
        return
    found = ctx.tx.find_complaints(text, FIND_RESULTS + 1)
    ctx.audit("find", detail=text)
    if not found:
        ctx.reply(Reply("operator.find_none", {"text": text}))
        return
    rows = tuple((item_button(ctx, c),) for c in found[:FIND_RESULTS])
    key = "operator.find_more" if len(found) > FIND_RESULTS else "operator.find_results"
    ctx.reply(Reply(key, {"text": text, "count": min(len(found), FIND_RESULTS)}, rows))


# -- /export -------------------------------------------------------------------------------------


def parse_export(ctx: Context, args: str) -> tuple[datetime, datetime, Stage | None] | Ref:
    """`[period] [stage]`: a period is `7d` (the last 7 days), `2026-11` (a month) or
    `2026-11-01..2026-11-30` (days, both included; Beijing dates); 30 days if none. A stage is
    a stage name. Anything else, or more than a year, is refused with what is accepted."""
    end = ctx.now + INSTANT  # up to and including now
    start, stage = end - timedelta(days=EXPORT_DEFAULT_DAYS), None
    for word in args.lower().split():
        if word in {s.value for s in Stage}:
            stage = Stage(word)
            continue
        period = _period(word, ctx.now)
        if period is None:
            return Ref("operator.export_bad", {"arg": word[:40]})
        start, end = period
    if end <= start:
        return Ref("operator.export_bad", {"arg": args.strip()[:40]})
    if end - start > timedelta(days=EXPORT_MAX_DAYS):
        return Ref("operator.export_too_long", {"days": EXPORT_MAX_DAYS})
    return start, end, stage


def _period(word: str, now: datetime) -> tuple[datetime, datetime] | None:
    if word.endswith("d") and word[:-1].isdigit() and len(word) <= 6:
        return now + INSTANT - timedelta(days=int(word[:-1])), now + INSTANT
    try:
        if ".." in word:
            first, last = word.split("..", 1)
            start = datetime.strptime(first, "%Y-%m-%d").replace(tzinfo=SHANGHAI)
            end = datetime.strptime(last, "%Y-%m-%d").replace(tzinfo=SHANGHAI)
            return start, end + timedelta(days=1)
        month = datetime.strptime(word, "%Y-%m").replace(tzinfo=SHANGHAI)
    except ValueError:
        return None
    following = (month + timedelta(days=32)).replace(day=1)
    return month, following


def export_command(ctx: Context, command: Command) -> None:
    """/export [period] [stage]: a CSV of complaints, sent as a document when it is built."""
    if ctx.refuse_non_operator("/export"):
        return
    parsed = parse_export(ctx, command.args)
    if isinstance(parsed, Ref):
        ctx.reply(Reply(parsed.key, parsed.params))
        ctx.reply(Reply("operator.export_usage"))
        return
    start, end, stage = parsed
    ctx.audit("export", detail=f"{start.isoformat()}..{end.isoformat()} {stage or 'all'}")
    ctx.event(
        "export.requested",
        operator=ctx.user.user_id,
        language=ctx.user.language,
        start=start.isoformat(),
        end=end.isoformat(),
        stage=stage.value if stage else None,
    )
    stage_name = Ref(f"stage.{stage}") if stage else Ref("operator.filter.all")
    ctx.reply(
        Reply("operator.export_started", {"start": at(start), "end": at(end), "stage": stage_name})
    )
