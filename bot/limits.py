"""Telegram's size limits, whatever the catalog lets a person type (issue 10.4).

A message is at most 4,096 characters once its HTML is parsed, a caption 1,024, a callback
answer (pop-up) 200; callback data is at most 64 bytes (`flows.callback` checks that). A text
over the limit is split at line breaks where no HTML tag is open, so every part is valid HTML
on its own; a single line still too long loses its formatting and is cut into plain pieces. A
caption or a pop-up over its limit is shortened with an ellipsis.
"""

from __future__ import annotations

import html
import re

from bot.i18n import plain

MESSAGE = 4096
CAPTION = 1024
ALERT = 200
ELLIPSIS = "…"

_TAG = re.compile(r"<(/?)([a-zA-Z-]+)[^<>]*>")


def visible_length(text: str) -> int:
    """What Telegram counts: the parsed text's length in UTF-16 code units."""
    return len(plain(text).encode("utf-16-le")) // 2


def _balanced_blocks(text: str) -> list[str]:
    """The text's lines grouped so that no HTML tag is open across a block's end."""
    blocks: list[str] = []
    current: list[str] = []
    depth = 0
    for line in text.split("\n"):
        current.append(line)
        for closing, _name in _TAG.findall(line):
            depth += -1 if closing else 1
        if depth <= 0:
            blocks.append("\n".join(current))
            current, depth = [], 0
    if current:
        blocks.append("\n".join(current))
    return blocks


def _plain_pieces(block: str, limit: int) -> list[str]:
    """A block too long for one message: its visible text, escaped, in pieces of `limit`."""
    text = plain(block)
    pieces: list[str] = []
    while text:
        cut = limit
        while len(text[:cut].encode("utf-16-le")) // 2 > limit:
            cut -= 1
        pieces.append(html.escape(text[:cut]))
        text = text[cut:]
    return pieces


def split(text: str, limit: int = MESSAGE) -> list[str]:
    """`text` (Telegram HTML) in parts of at most `limit` visible characters, cut at lines."""
    if visible_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for block in _balanced_blocks(text):
        candidate = f"{current}\n{block}" if current else block
        if visible_length(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current)
        if visible_length(block) <= limit:
            current = block
        else:
            *whole, current = _plain_pieces(block, limit)
            parts.extend(whole)
    if current.strip():
        parts.append(current)
    return parts or [text[:limit]]


def shorten(text: str, limit: int) -> str:
    """Telegram HTML cut to `limit` visible characters with an ellipsis (as plain text)."""
    if visible_length(text) <= limit:
        return text
    return html.escape(clip_plain(plain(text), limit))


def clip_plain(text: str, limit: int) -> str:
    """Plain text cut to `limit` UTF-16 units, an ellipsis marking the cut."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    cut = limit - 1
    while len(text[:cut].encode("utf-16-le")) // 2 > limit - 1:
        cut -= 1
    return text[:cut].rstrip() + ELLIPSIS
