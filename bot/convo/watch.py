"""What a person would notice in their chat since they last looked at it.

New bot messages, and edits that changed the text, in order of first change. An edit that only
drops or swaps the buttons of a message (the tapped prompt losing its keyboard) is not news; a
message's buttons are checked in their final state anyway. Used by the runner and the recorder.
"""

from __future__ import annotations

from bot.fake.models import FakeMessage
from bot.fake.world import FakeTelegram


class StepWatcher:
    def __init__(self, world: FakeTelegram) -> None:
        self._texts: dict[tuple[int, int], str] = {}
        self._changed: dict[int, list[FakeMessage]] = {}
        world.subscribe(self._on)

    def _on(self, event: str, chat_id: int, msg: FakeMessage) -> None:
        if event == "deleted":
            return
        key = (chat_id, msg.message_id)
        before, self._texts[key] = self._texts.get(key), msg.text
        if event == "edited" and before == msg.text:
            return
        changed = self._changed.setdefault(chat_id, [])
        if all(m is not msg for m in changed):
            changed.append(msg)

    def begin(self) -> None:
        """Forget every chat's news."""
        self._changed = {}

    def seen(self, chat_id: int) -> None:
        """Forget one chat's news (its person has looked)."""
        self._changed.pop(chat_id, None)

    def got(self, chat_id: int) -> list[FakeMessage]:
        """The chat's messages that are news since `begin` or `seen`."""
        return list(self._changed.get(chat_id, []))
