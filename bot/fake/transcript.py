"""Render a fake chat as text, for failure messages and for people reading a test run."""

from __future__ import annotations

from bot.fake.models import FakeMessage, FakeTap
from bot.fake.world import FakeTelegram


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def media_label(msg: FakeMessage) -> str:
    """`[photo evidence.png 12.0 KB]`, `[video call.mp4 4.9 KB album 7]`, "" for text."""
    if msg.kind == "text":
        return ""
    if msg.kind in ("photo", "document", "video") and msg.file is not None:
        name = f" {msg.file.file_name}" if msg.file.file_name else ""
        album = f" album {msg.media_group_id}" if msg.media_group_id else ""
        return f"[{msg.kind}{name} {human_size(msg.file.size)}{album}]"
    return f"[{msg.kind}]"


def render_message(world: FakeTelegram, msg: FakeMessage) -> list[str]:
    """`[12] bot: text (edited)` plus one indented line per row of buttons."""
    who = "bot" if msg.from_bot else world.users[msg.sender_id].first_name
    parts = [p for p in (media_label(msg), msg.text) if p]
    if msg.forward_sender is not None:
        parts.insert(0, f"(forwarded from {msg.forward_sender})")
    body = " ".join(parts).replace("\n", "\n     ")
    markers = "".join(m for m, on in ((" (edited)", msg.edited), (" (deleted)", msg.deleted)) if on)
    lines = [f"[{msg.message_id}] {who}: {body}{markers}"]
    for row in msg.buttons:
        lines.append("    " + " ".join(f"[{b.label}]" for b in row))
    if msg.reply_keyboard:
        for labels in msg.reply_keyboard:
            lines.append("    keyboard: " + " ".join(f"<{label}>" for label in labels))
    return lines


def render_tap(world: FakeTelegram, tap: FakeTap) -> str:
    who = world.users[tap.user_id].first_name
    what = f"[{tap.label}]" if tap.label is not None else f"data={tap.data!r}"
    return f"     {who} tapped {what} on [{tap.message_id}]"


def render_transcript(world: FakeTelegram, chat_id: int, last: int | None = None) -> str:
    """The chat's messages and taps in order (only the `last` N entries if given)."""
    entries = world.timeline(chat_id)
    if last is not None:
        entries = entries[-last:] if last > 0 else []
    lines: list[str] = []
    for entry in entries:
        if isinstance(entry, FakeTap):
            lines.append(render_tap(world, entry))
        else:
            lines.extend(render_message(world, entry))
    return "\n".join(lines) if lines else "(empty chat)"
