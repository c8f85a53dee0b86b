"""Personal settings: language, and the second confirmation before submitting (article 002)."""

from __future__ import annotations

from flows.events import Tap
from flows.language import SUPPORTED
from flows.records import UserRecord
from flows.replies import Button, Ref, Reply
from flows.step import Step


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


def on_tap(step: Step, tap: Tap) -> None:
    """Menu and settings buttons: stateless, so an old one still does exactly what it says."""
    step.notice("menu.ok")
    if tap.action == "language" and not tap.arg:
        step.reply(language_menu())
    elif tap.action == "language" and tap.arg in SUPPORTED:
        step.update(language=tap.arg, language_chosen=True)
        step.reply(Reply("settings.language_set", edit=True))
    elif tap.action == "settings" and not tap.arg:
        step.reply(settings_menu(step.user))
    elif tap.action == "confirm_twice" and tap.arg in ("on", "off"):
        step.update(confirm_twice=tap.arg == "on")
        step.reply(settings_menu(step.user, edit=True))
    else:
        step.notice("errors.button_invalid", alert=True)
