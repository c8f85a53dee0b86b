"""Matching what the bot did against a script's ordered expectations.

Messages are those an actor got since their chat was last checked (sent or edited, in order of
first change): expectations on an actor read what is new in their chat, however many steps
ago it came. Each
expectation takes the first message after the previous match that satisfies it; captures
(`params: {number: $complaint}`, regex groups `(?P<complaint>...)`, event fields) bind a
variable the first time and compare it afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.convo.model import VARIABLE, Expectation, substitute
from bot.fake.models import CallbackAnswer, FakeButton, FakeMessage
from bot.i18n import Translator, plain
from flows.replies import DomainEvent


class ConvoFailure(AssertionError):
    """An expectation of a script did not hold (the message says where and shows the chats)."""


Bindings = dict[str, str]
_RESOLVED = ("text", "contains", "buttons", "no_buttons")  # variables resolved before matching


def _capture(expected: Any, actual: Any, bound: Mapping[str, Any], new: Bindings) -> bool:
    """Compare a value; a lone unbound `$var` captures `actual` into `new`."""
    if isinstance(expected, str) and (whole := VARIABLE.fullmatch(expected)):
        name = whole.group(1) or whole.group(2)
        if name is not None and name not in bound:
            if name in new:
                return new[name] == str(actual)
            new[name] = str(actual)
            return True
    resolved = substitute(expected, {**bound, **new}, None, strict=False)
    return str(resolved) == str(actual)


class Matcher:
    """Matches messages, buttons and events for one actor's language."""

    def __init__(self, translator: Translator, language: str) -> None:
        self.tr = translator
        self.language = language

    def key_groups(self, key: str, text: str) -> dict[str, str] | None:
        if not self.tr.has(self.language, key):
            return None
        found = self.tr.fullmatch(self.language, key, text)
        return None if found is None else found.groupdict()

    def button_matches(self, button: FakeButton, spec: Any, bound: Mapping[str, Any]) -> bool:
        if isinstance(spec, str):
            spec = {"key": spec}
        if "label" in spec:
            return button.label == str(spec["label"])
        groups = self.key_groups(spec["key"], button.label)
        if groups is None:
            return False
        params = spec.get("params") or {}
        scratch: Bindings = {}
        return all(_capture(v, groups.get(p), bound, scratch) for p, v in params.items())

    def message(
        self, msg: FakeMessage, spec: Mapping[str, Any], bound: Mapping[str, Any]
    ) -> Bindings | None:
        """The new bindings if `msg` satisfies `spec`, else None."""
        new: Bindings = {}
        text = msg.text
        if "key" in spec:
            groups = self.key_groups(spec["key"], text)
            if groups is None:
                return None
            for param, expected in (spec.get("params") or {}).items():
                if param not in groups or not _capture(expected, groups[param], bound, new):
                    return None
        resolve = {**bound, **new}
        if "text" in spec and text.strip() != str(spec["text"]).strip():
            return None
        if "contains" in spec and str(spec["contains"]) not in text:
            return None
        if "regex" in spec:
            found = re.search(str(spec["regex"]), text, re.DOTALL)
            if found is None:
                return None
            for name, got in found.groupdict().items():
                if got is not None and not _capture(f"${name}", got, bound, new):
                    return None
        buttons = [b for row in msg.buttons for b in row]
        for wanted in spec.get("buttons") or []:
            if not any(self.button_matches(b, wanted, resolve) for b in buttons):
                return None
        for unwanted in spec.get("no_buttons") or []:
            if any(self.button_matches(b, unwanted, resolve) for b in buttons):
                return None
        if "edited" in spec and bool(spec["edited"]) != msg.edited:
            return None
        return new

    def popup(self, answer: CallbackAnswer | None, key: str) -> bool:
        if answer is None or not answer.text or not self.tr.has(self.language, key):
            return False
        return self.tr.matches(self.language, key, plain(answer.text))


def check_actor(
    matcher: Matcher,
    name: str,
    expectations: Sequence[Expectation],
    messages: Sequence[FakeMessage],
    answer: CallbackAnswer | None,
    bound: dict[str, Any],
    render: Any,
) -> None:
    """Check one actor's ordered expectations; bind captures into `bound`; raise ConvoFailure."""
    if not expectations and messages:
        raise ConvoFailure(f"expected {name} to get nothing new, got:\n{render(messages)}")
    position = 0
    for item in expectations:
        where, spec = item.where, item.data
        if isinstance(spec, Mapping):  # texts may quote variables; regexes keep their `$`
            spec = {
                k: substitute(v, bound, where, strict=True) if k in _RESOLVED else v
                for k, v in spec.items()
            }
        if spec == "nothing_more":
            rest = messages[position:]
            if rest:
                raise ConvoFailure(
                    f"{where}: expected nothing more for {name}, got:\n{render(rest)}"
                )
            continue
        if "popup" in spec:
            if not matcher.popup(answer, str(spec["popup"])):
                shown = answer.text if answer is not None else "no answer"
                raise ConvoFailure(
                    f"{where}: expected {name}'s pop-up {spec['popup']!r}, got {shown!r}"
                )
            continue
        for index in range(position, len(messages)):
            new = matcher.message(messages[index], spec, bound)
            if new is not None:
                bound.update(new)
                position = index + 1
                break
        else:
            got = render(messages[position:]) if messages[position:] else "  (nothing)"
            raise ConvoFailure(
                f"{where}: expected {name} to get {_show(spec)}\n"
                f"{name} got since last checked{' (after the earlier matches)' if position else ''}"
                f":\n{got}"
            )


def check_events(
    expectations: Sequence[Expectation], events: Sequence[DomainEvent], bound: dict[str, Any]
) -> None:
    position = 0
    for item in expectations:
        spec = item.data
        for index in range(position, len(events)):
            event = events[index]
            if event.name != spec["name"]:
                continue
            new: Bindings = {}
            fields = spec.get("fields") or {}
            if all(
                f in event.data and _capture(v, event.data[f], bound, new)
                for f, v in fields.items()
            ):
                bound.update(new)
                position = index + 1
                break
        else:
            seen = "\n".join(f"  {e.name} {dict(e.data)}" for e in events[position:])
            raise ConvoFailure(
                f"{item.where}: expected the event {_show(spec)}\n"
                f"events in this step:\n{seen or '  (none)'}"
            )


def _show(spec: Any) -> str:
    if isinstance(spec, Mapping):
        return "{" + ", ".join(f"{k}: {v!r}" for k, v in spec.items()) + "}"
    return repr(spec)
