"""A minimal version of Telegram's HTML parse mode: validate like Telegram, render to plain text."""

from __future__ import annotations

import html
import re

from bot.fake.models import ApiError

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "blockquote",
        "span",
        "tg-emoji",
    }
)

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#[xX][0-9a-fA-F]+);")


def _fail(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {reason}")


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def render_html(text: str) -> str:
    """Check `text` as Telegram's HTML parse mode would, and return the text a user sees.

    Raises ApiError (400, "can't parse entities: ...") for an unknown tag, an unbalanced tag,
    a bare `<`, or an `&` that does not start one of the entities Telegram accepts.
    """
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise _fail(f"unclosed start tag at byte offset {_offset(text, i)}")
            closing, name = match.group(1) == "/", match.group(2).lower()
            if closing:
                if not stack or stack[-1][0] != name:
                    raise _fail(f'unexpected end tag "{name}" at byte offset {_offset(text, i)}')
                stack.pop()
            else:
                if name not in ALLOWED_TAGS:
                    raise _fail(f'unsupported start tag "{name}" at byte offset {_offset(text, i)}')
                stack.append((name, i))
            i = match.end()
            continue
        if ch == "&":
            match = _ENTITY.match(text, i)
            if match is None:
                raise _fail(
                    f"character '&' must be escaped as &amp; (byte offset {_offset(text, i)})"
                )
            out.append(html.unescape(match.group(0)))
            i = match.end()
            continue
        out.append(ch)
        i += 1
    if stack:
        name, _ = stack[-1]
        raise _fail(f'can\'t find end tag corresponding to start tag "{name}"')
    return "".join(out)


def render(text: str, parse_mode: str | None) -> str:
    """The visible text for `text` sent with `parse_mode` (only HTML is validated)."""
    if parse_mode is not None and parse_mode.lower() == "html":
        return render_html(text)
    return text
