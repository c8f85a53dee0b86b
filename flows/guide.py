"""The guide: short, stateless, chat-sized pages navigated by buttons (domain.md section 2).

Every page is a `Reply` keyed `guide.<page>.body`; the texts live in `bot/locales/*/guide.po`.
Buttons are stateless (scope "g"): `action="page"`, `arg=<page id>`; the index button carries
`arg="index"`, which `guide_page` also understands. Pages edit the message in place.
"""

from __future__ import annotations

from dataclasses import replace

from flows import explain
from flows.catalog import Catalog, ComplaintType, Limits
from flows.context import Context
from flows.events import Tap
from flows.registry import Feature
from flows.replies import Button, Lines, Params, Ref, Reply

GUIDE_PAGES: tuple[str, ...] = (
    "why",
    "types",
    "prepare",
    "channels",
    "precautions",
    "after",
    "revocation",
    "materials",
    "compare",
)
INDEX = "index"
ACTION = "page"
SCOPE = "g"
_PER_ROW = 2


def _button(key: str, page: str) -> Button:
    return Button(key=key, action=ACTION, arg=page, scope=SCOPE)


def guide_index() -> Reply:
    """The table of contents: one button per page, two per row."""
    buttons = [_button(f"guide.button.{page}", page) for page in GUIDE_PAGES]
    rows = tuple(tuple(buttons[i : i + _PER_ROW]) for i in range(0, len(buttons), _PER_ROW))
    return Reply(key="guide.index", buttons=rows)


def _params(page: str, catalog: Catalog, language: str) -> Params:
    limits = catalog.limits
    if page == "types":
        return {"types": "\n".join(f"• {t.title.get(language)}" for t in catalog.types)}
    if page == "revocation":
        return {
            "n": limits.auto_review_hours,
            "pending": Ref("stage.pending"),
            "types": Lines(tuple(_type_line(t, limits) for t in catalog.types)),
            "disclaimer": catalog.disclaimer.get(language),
        }
    if page == "materials":
        return {"daily": limits.daily_appeals}
    return {}


def _type_line(ctype: ComplaintType, limits: Limits) -> Ref:
    """One type on the withdrawal page: its window, who withdraws, its success rating."""
    rule = ctype.revocation
    stars = explain.rating(ctype).params.get("stars", "")
    stars = f" {stars}" if stars else ""
    if not rule.revocable:
        short = Ref("rule.short.never", {"stars": stars})
    else:
        shape = "self_service" if rule.self_service else "operator"
        window = explain.window(ctype)
        short = Ref(
            f"rule.short.{shape}", {"window": window, "n": limits.auto_review_hours, "stars": stars}
        )
    return Ref("guide.revocation.type", {"title": ctype.title.as_dict(), "rule": short})


def guide_page(page_id: str, catalog: Catalog, language: str) -> Reply | None:
    """Page `page_id` (or the index, edited in place, for "index"); None for an unknown id.

    Buttons: a row with « previous / next » (where they exist), then a row back to the index.
    """
    if page_id == INDEX:
        return replace(guide_index(), edit=True)
    if page_id not in GUIDE_PAGES:
        return None
    at = GUIDE_PAGES.index(page_id)
    steps: list[Button] = []
    if at > 0:
        steps.append(_button("guide.button.prev", GUIDE_PAGES[at - 1]))
    if at < len(GUIDE_PAGES) - 1:
        steps.append(_button("guide.button.next", GUIDE_PAGES[at + 1]))
    return Reply(
        key=f"guide.{page_id}.body",
        params=_params(page_id, catalog, language),
        buttons=(tuple(steps), (_button("guide.button.index", INDEX),)),
        edit=True,
    )


def on_tap(ctx: Context, tap: Tap) -> None:
    """A guide button: show the page (or the index) in place."""
    page = guide_index() if tap.action == "index" else None
    if tap.action == ACTION:
        page = guide_page(tap.arg, ctx.catalog, ctx.user.language)
    if page is None:
        ctx.notice("errors.button_invalid", alert=True)
        return
    ctx.reply(page)


def help_page() -> Reply:
    """/help: what the desk does and its commands; the guide and the complaints one tap away."""
    return Reply(
        "help.body",
        buttons=(
            (
                Button("menu.button.guide", "index", scope=SCOPE),
                Button("menu.button.mycomplaints", "mine", "0", scope="c"),
            ),
        ),
    )


FEATURE = Feature(
    commands={
        "guide": lambda ctx, _: ctx.reply(guide_index()),
        "help": lambda ctx, _: ctx.reply(help_page()),
    },
    scope=SCOPE,
    on_tap=on_tap,
)
