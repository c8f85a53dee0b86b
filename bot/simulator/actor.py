"""Actor: one simulated Telegram user, acting through the simulator and reading their chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bot.fake.models import JSON, CallbackAnswer, FakeMessage
from bot.fake.transcript import render_transcript
from bot.fake.world import FakeTelegram
from bot.i18n import Translator, plain


class Actor:
    """A user of the bot. Every action sends one update and waits until the bot is idle."""

    def __init__(
        self,
        world: FakeTelegram,
        user_id: int,
        process: Callable[[JSON], Awaitable[None]],
        translator: Translator | None,
        language: str,
    ) -> None:
        self.world = world
        self.id = user_id
        self._process = process
        self._translator_ = translator
        self._last_query: str | None = None
        self._checkpoint = world.mark()
        self._checkpoint_before = self._checkpoint
        self.language = language
        """The language the bot speaks to this user (update it after they switch)."""

    @property
    def name(self) -> str:
        return self.world.users[self.id].first_name

    def __repr__(self) -> str:
        return f"Actor({self.id}, {self.name!r})"

    async def _act(self, update: JSON) -> None:
        self._checkpoint_before = self.world.mark()
        await self._process(update)
        self._checkpoint = self.world.mark()

    # ---- what a user can do ------------------------------------------------------------------

    async def send(self, text: str) -> None:
        await self._act(self.world.user_text(self.id, text))

    async def send_photo(self, **kwargs: Any) -> None:
        """kwargs of `FakeTelegram.user_photo`: data, file_name, size, caption, media_group_id."""
        await self._act(self.world.user_photo(self.id, **kwargs))

    async def send_document(self, **kwargs: Any) -> None:
        await self._act(self.world.user_document(self.id, **kwargs))

    async def send_video(self, **kwargs: Any) -> None:
        await self._act(self.world.user_video(self.id, **kwargs))

    async def forward(self, sender: str, text: str) -> None:
        """Forward a text written by `sender` (an account that hides its link)."""
        await self._act(self.world.user_forward(self.id, sender, text))

    async def send_sticker(self) -> None:
        await self._act(self.world.user_sticker(self.id))

    async def send_location(self) -> None:
        await self._act(self.world.user_location(self.id))

    async def send_album(self, items: int | Sequence[Mapping[str, Any]] = 2) -> None:
        """Several media with one shared media_group_id, sent as one update each.

        `items` is a count of photos, or a list of kwargs; a `kind` key ("photo", "document",
        "video") picks the media type, photo by default.
        """
        specs: list[Mapping[str, Any]] = (
            [{} for _ in range(items)] if isinstance(items, int) else list(items)
        )
        world = self.world
        group = world.new_media_group_id()
        for spec in specs:
            kwargs = {k: v for k, v in spec.items() if k != "kind"}
            kind = spec.get("kind", "photo")
            make = {
                "photo": world.user_photo,
                "document": world.user_document,
                "video": world.user_video,
            }[kind]
            await self._act(make(self.id, media_group_id=group, **kwargs))

    async def tap(
        self, label: str | None = None, data: str | None = None, message_id: int | None = None
    ) -> None:
        """Press a button by label or callback data (on the newest keyboard unless message_id)."""
        try:
            update = self.world.user_tap(self.id, data=data, label=label, message_id=message_id)
        except LookupError as error:
            raise AssertionError(f"{error}\n{self.transcript(last=15)}") from None
        self._last_query = update["callback_query"]["id"]
        await self._act(update)

    async def tap_raw(self, message_id: int, data: str) -> None:
        """Send any callback data (forged or stale) as if pressed on `message_id`."""
        update = self.world.user_tap_raw(self.id, message_id, data)
        self._last_query = update["callback_query"]["id"]
        await self._act(update)

    async def tap_key(self, key: str, **params: Any) -> None:
        """Press the button labelled by message `key` (in this user's language)."""
        await self.tap(label=self.label(key, **params))

    def label(self, key: str, **params: Any) -> str:
        """A button label or pop-up text as this user sees it."""
        return plain(self._translator().text(self.language, key, **params))

    # ---- what a user sees --------------------------------------------------------------------

    @property
    def messages(self) -> list[FakeMessage]:
        """The bot's messages in this chat (deleted ones left out)."""
        return self.world.bot_messages(self.id)

    @property
    def last(self) -> FakeMessage:
        found = self.messages
        if not found:
            raise AssertionError(f"the bot has sent nothing to {self.name}\n{self.transcript()}")
        return found[-1]

    def texts(self) -> list[str]:
        return [m.text for m in self.messages]

    def transcript(self, last: int | None = None) -> str:
        return render_transcript(self.world, self.id, last)

    @property
    def last_callback_answer(self) -> CallbackAnswer | None:
        """How the bot answered this actor's latest tap (None if it did not)."""
        if self._last_query is None:
            return None
        return self.world.callback_answer(self._last_query)

    def mark(self) -> int:
        """A position to read from later with `since`."""
        return self.world.mark()

    def since(self, mark: int) -> list[FakeMessage]:
        """Bot messages of this chat sent or edited after `mark`, in order of first change."""
        seen: list[FakeMessage] = []
        for event, _, message_id in self.world.events_since(mark, self.id):
            msg = self.world.message(self.id, message_id)
            if event in ("sent", "edited") and msg is not None and msg not in seen:
                seen.append(msg)
        return seen

    # ---- assertions --------------------------------------------------------------------------

    def expect_no_more(self, since: int | None = None) -> None:
        """Nothing was sent or edited in this chat since this actor's last action (or `since`)."""
        changed = self.since(self._checkpoint if since is None else since)
        if changed:
            ids = ", ".join(str(m.message_id) for m in changed)
            raise AssertionError(f"unexpected bot messages [{ids}]\n{self.transcript(last=15)}")

    def _translator(self) -> Translator:
        if self._translator_ is None:
            raise RuntimeError("key matching needs the simulator's translator (start(translator=))")
        return self._translator_

    def shows(self, message: FakeMessage, key: str) -> bool:
        """Whether `message` is a rendering of message `key` in this user's language."""
        return self._translator().matches(self.language, key, message.text)

    def assert_last(self, key: str) -> FakeMessage:
        """The newest bot message renders `key`; the transcript explains a failure."""
        msg = self.last
        if not self.shows(msg, key):
            raise AssertionError(
                f"expected the last message to {self.name} to be {key!r}\n"
                f"{self.transcript(last=15)}"
            )
        return msg

    def assert_got(self, key: str, since: int | None = None) -> FakeMessage:
        """Some message sent or edited since the last action (or `since`) renders `key`."""
        changed = self.since(self._checkpoint_before if since is None else since)
        for msg in changed:
            if self.shows(msg, key):
                return msg
        raise AssertionError(
            f"{self.name} got no {key!r} in the last step\n{self.transcript(last=15)}"
        )

    def assert_last_contains(self, substring: str) -> FakeMessage:
        msg = self.last
        if substring not in msg.text:
            raise AssertionError(
                f"the last bot message to {self.name} does not contain {substring!r}\n"
                f"{self.transcript(last=15)}"
            )
        return msg
