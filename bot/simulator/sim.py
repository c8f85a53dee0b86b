"""The simulator: the real PTB Application against the fake Telegram, on a FakeClock.

It does not know the bot's handlers: a factory builds the (uninitialized) Application on the
request and clock it is given, exactly as production does with the real ones. Every step
hands one update to the bot the way PTB's own update fetcher does, then waits until the bot is idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeAlias, TypeVar

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest

from bot.clock import FakeClock
from bot.fake.models import JSON
from bot.fake.request import FakeRequest
from bot.fake.transcript import render_transcript
from bot.fake.world import FakeTelegram
from bot.i18n import Translator
from bot.simulator.actor import Actor
from bot.simulator.idle import DrainTimeout, Tasks
from flows.language import resolve_language

T = TypeVar("T")

AnyApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
AppFactory: TypeAlias = Callable[[BaseRequest, FakeClock], Awaitable[AnyApp]]
"""Builds an *uninitialized* Application on the given request and clock (`.request(r)
.get_updates_request(r).updater(None)`); the simulator initializes, starts and stops it."""
TickHook: TypeAlias = Callable[[], Awaitable[None]]


class BotCrashed(AssertionError):
    """A handler or background task raised; the message carries the error and the transcripts."""


class Simulator:
    """One bot (Application), one FakeTelegram world and one FakeClock, shared by all actors."""

    def __init__(
        self,
        factory: AppFactory,
        clock: FakeClock,
        world: FakeTelegram,
        *,
        translator: Translator | None = None,
        default_language: str = "",
        raise_errors: bool = True,
        drain_timeout: float = 5.0,
    ) -> None:
        self.world = world
        self.clock = clock
        self.translator = translator
        """The message catalogs, for matching messages by key (`Actor.assert_last(key)`)."""
        self.default_language = default_language
        """The bot's DEFAULT_LANGUAGE (empty: the translator's first language)."""
        self.raise_errors = raise_errors
        self.errors: list[BaseException] = []
        self.tasks = Tasks(clock, self._record, self.transcripts, drain_timeout)
        self._factory = factory
        self._app: AnyApp | None = None
        self._stopped = False
        self._actors: dict[int, Actor] = {}
        self._hooks: list[TickHook] = []
        self._reported: set[int] = set()

    # ---- life cycle ------------------------------------------------------------------------

    @classmethod
    async def start(
        cls,
        factory: AppFactory,
        *,
        clock: FakeClock,
        world: FakeTelegram | None = None,
        translator: Translator | None = None,
        default_language: str = "",
        raise_errors: bool = True,
        drain_timeout: float = 5.0,
    ) -> Simulator:
        """Build the app from `factory`, initialize and start it (post_init runs, as in polling)."""
        sim = cls(
            factory,
            clock,
            world or FakeTelegram(clock),
            translator=translator,
            default_language=default_language,
            raise_errors=raise_errors,
            drain_timeout=drain_timeout,
        )
        sim.tasks.ignore_existing()
        async with sim.tasks.step() as before:
            await sim._boot()
            await sim.tasks.drain(before)
        return sim

    @property
    def app(self) -> AnyApp:
        if self._app is None:
            raise RuntimeError("the simulator is stopped")
        return self._app

    async def _boot(self) -> None:
        app = await self._factory(FakeRequest(self.world), self.clock)
        app.add_error_handler(self._on_error)
        await app.initialize()
        if app.post_init is not None:
            await self._settle(app.post_init(app), set(asyncio.all_tasks()))
        await app.start()
        self._app = app

    async def _halt(self, before: set[asyncio.Task[Any]] | None = None) -> None:
        """Stop like a dying process: pending work is cancelled, then the app shuts down.

        With `before` (a planned stop, as on SIGTERM), nothing is cancelled: the app stops
        and its `post_stop` runs first, with virtual time moving on while it waits for the
        work in flight (a broadcast batch) to end."""
        app, self._app = self._app, None
        if app is None:
            return
        if before is not None and app.running:
            await self._settle(self._stop_app(app), before)
        await self.tasks.cancel_pending()
        if app.running:
            await self._stop_app(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)

    @staticmethod
    async def _stop_app(app: AnyApp) -> None:
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)

    async def restart(self, *, planned: bool = False) -> None:
        """Stop and shut the app down, then build a new one on the same world and clock.

        By default the old app dies (its pending work is cancelled, like a SIGKILL); with
        `planned` it stops the way SIGTERM stops it (the work in flight is let finish)."""
        async with self.tasks.step() as before:
            await self._drain(before)
            await self._halt(before if planned else None)
            await self._boot()
            await self._drain(before)

    async def stop(self) -> None:
        """Stop the app; fail if the bot called a Bot API method the fake does not implement."""
        if self._stopped:
            return
        self._stopped = True
        await self._halt()
        unknown = self.world.unknown_methods()
        if unknown:
            raise AssertionError(f"the bot called Bot API methods the fake lacks: {unknown}")

    async def __aenter__(self) -> Simulator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.stop()
        else:
            await self._halt()

    # ---- actors and updates ------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "", language_code: str | None = "en") -> Actor:
        """The actor for a Telegram user (created in the world on first use)."""
        self.world.add_user(user_id, first_name, language_code)
        actor = self._actors.get(user_id)
        if actor is None:
            actor = self._actors[user_id] = Actor(
                self.world,
                user_id,
                self.process,
                self.translator,
                self.language_of(language_code),
            )
        return actor

    def language_of(self, language_code: str | None) -> str:
        """The language the bot speaks to someone whose Telegram language is `language_code`
        (as the desk resolves it, over the languages the translator has)."""
        if self.translator is None:
            return language_code or self.default_language
        languages = self.translator.languages
        return resolve_language(language_code, languages, self.default_language or languages[0])

    async def process(self, update: JSON) -> None:
        """Hand one update to the app the way PTB's update fetcher does, then wait until idle."""
        async with self.tasks.step() as before:
            app = self.app
            parsed = Update.de_json(update, app.bot)
            if getattr(app.bot, "callback_data_cache", None) is not None:
                app.bot.insert_callback_data(parsed)  # PTB does this only inside get_updates
            await self._settle(
                app.update_processor.process_update(parsed, app.process_update(parsed)), before
            )

    async def _settle(self, work: Awaitable[T], before: set[asyncio.Task[Any]]) -> T:
        """Run `work` to its end; while it only waits for the clock (a reply waiting out a 429
        or a back-off), virtual time moves on to the next wake-up."""
        task = asyncio.ensure_future(work)
        for _ in range(10_000):
            await self._drain(before)
            if task.done():
                break
            due = self.clock.next_wakeup()
            if due is None:  # pragma: no cover - _drain raises DrainTimeout first
                break
            self.clock.set(due)
        return await task

    def on_advance(self, hook: TickHook) -> None:
        """Run `hook` after every clock step of `advance` (e.g. the deadline sweeper)."""
        self._hooks.append(hook)

    async def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> None:
        """Move virtual time forward, stopping at every pending wake-up on the way, in order."""
        delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        async with self.tasks.step() as before:
            target = self.clock.now() + delta
            await self._drain(before)
            while (due := self.clock.next_wakeup()) is not None and due <= target:
                self.clock.set(due)
                await self._tick(before)
            if self.clock.now() < target or delta == timedelta(0):
                self.clock.set(target)
                await self._tick(before)

    async def _tick(self, before: set[asyncio.Task[Any]]) -> None:
        await self._drain(before)
        for hook in list(self._hooks):
            await hook()
            await self._drain(before)

    async def run_until_idle(self, *, follow_clock: bool = False, max_steps: int = 10_000) -> None:
        """Wait for every task the bot started to finish or park on the clock.

        With `follow_clock`, keep jumping the clock to the next wake-up while any of the bot's
        tasks sleeps on it (for paced work such as a broadcast).
        """
        async with self.tasks.step():
            await self._drain(None)
            for _ in range(max_steps):
                due = self.clock.next_wakeup()
                if not follow_clock or due is None or not self.tasks.any_on_clock():
                    return
                self.clock.set(due)
                await self._tick(set())
            raise DrainTimeout(f"still sleeping on the clock after {max_steps} steps")

    def daemon(self, task: asyncio.Task[Any]) -> None:
        """Never wait for `task` (a long-lived worker that is idle while it waits)."""
        self.tasks.daemon(task)

    async def _drain(self, before: set[asyncio.Task[Any]] | None) -> None:
        """Wait until the bot is idle, then fail the step if it raised meanwhile."""
        await self.tasks.drain(before)
        self._raise_errors()

    # ---- errors and transcripts --------------------------------------------------------------

    async def _on_error(self, update: object, context: Any) -> None:
        if context.error is not None:
            self._record(context.error)

    def _record(self, error: BaseException) -> None:
        if all(error is not seen for seen in self.errors):
            self.errors.append(error)

    def _raise_errors(self) -> None:
        fresh = [e for e in self.errors if id(e) not in self._reported]
        self._reported.update(id(e) for e in fresh)
        if fresh and self.raise_errors:
            listed = "\n".join(f"  {type(e).__name__}: {e}" for e in fresh)
            raise BotCrashed(f"the bot raised:\n{listed}\n{self.transcripts()}") from fresh[0]

    def transcripts(self, last: int | None = 20) -> str:
        """The recent transcript of every actor's chat."""
        parts = []
        for user_id in self._actors:
            name = self.world.users[user_id].first_name
            body = render_transcript(self.world, user_id, last)
            parts.append(f"--- chat with {name} ({user_id}) ---\n{body}")
        return "\n".join(parts)
