"""The feature modules, listed once: the registry the engine routes through, and the commands
Telegram shows in its menu. A new feature is a module exporting a `Feature`, listed here."""

from __future__ import annotations

from flows import broadcast, filing, follow, guide, operator, privacy, revoke, settings
from flows.registry import Registry

REGISTRY = Registry.of(
    filing.FLOW,
    (
        guide.FEATURE,
        settings.FEATURE,
        follow.FEATURE,
        revoke.FEATURE,
        operator.FEATURE,
        broadcast.FEATURE,
        privacy.FEATURE,
    ),
)
# The commands shown in Telegram's menu, in order.
MENU_COMMANDS = ("start", "mycomplaints", "guide", "settings", "language", "privacy", "cancel")
# Operators' chats also show these.
OPERATOR_COMMANDS = ("queue", "find", "open", "requests", "export", "broadcast", "broadcasts")
