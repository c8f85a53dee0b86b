"""Personal settings: language, and the second confirmation before submitting (article 002)."""

from __future__ import annotations

from flows.catalog import Catalog
from flows.context import Context
from flows.events import Tap
from flows.records import UserRecord
from flows.registry import Feature
from flows.replies import Button, Ref, Reply


def language_menu(catalog: Catalog) -> Reply:
    """A button per language of the catalog, each labelled with its name in itself."""
    return Reply(
        "settings.choose_language",
        buttons=(
            tuple(
                Button("language.name", "language", code, {"name": name}, scope="m")
                for code, name in catalog.languages.items()
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


def on_tap(ctx: Context, tap: Tap) -> None:
    """Menu and settings buttons: stateless, so an old one still does exactly what it says."""
    if tap.action == "language" and not tap.arg:
        ctx.reply(language_menu(ctx.catalog))
    elif tap.action == "language" and tap.arg in ctx.catalog.languages:
        ctx.update(language=tap.arg, language_chosen=True)
        ctx.reply(Reply("settings.language_set", edit=True))
    elif tap.action == "settings" and not tap.arg:
        ctx.reply(settings_menu(ctx.user))
    elif tap.action == "confirm_twice" and tap.arg in ("on", "off"):
        ctx.update(confirm_twice=tap.arg == "on")
        ctx.reply(settings_menu(ctx.user, edit=True))
    else:
        ctx.notice("errors.button_invalid", alert=True)


FEATURE = Feature(
    commands={
        "language": lambda ctx, _: ctx.reply(language_menu(ctx.catalog)),
        "settings": lambda ctx, _: ctx.reply(settings_menu(ctx.user)),
    },
    scope="m",
    on_tap=on_tap,
)
