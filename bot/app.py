"""The one wiring place: settings, catalog, store, desk and the PTB `Application`.

The same `build_application` serves real Telegram (polling), the simulator and the console;
only the `request` (the Bot API transport) and the clock differ.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeAlias

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from bot import ingress
from bot.background import Outbox, Sweeper
from bot.broadcaster import Broadcaster
from bot.clock import Clock
from bot.config import Settings
from bot.exporter import Exporter
from bot.i18n import Translator, plain
from bot.inbound import to_inbound
from bot.pacer import Pacer
from bot.processor import PerUserProcessor
from bot.render import Renderer
from bot.sending import Persist
from flows import after_send
from flows.catalog import Catalog, load_catalog
from flows.context import Rules
from flows.engine import Desk
from flows.features import MENU_COMMANDS, OPERATOR_COMMANDS, REGISTRY
from flows.language import primary_subtag, resolve_language
from flows.numbers import RANDOM_BITS, format_number
from flows.replies import DomainEvent
from storage.base import Store
from storage.factory import open_store

log = logging.getLogger("complaint_desk")

EventSink = Callable[[DomainEvent], None]
AnyApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
StoreFactory: TypeAlias = Callable[[], Awaitable[Store]]
"""Opens the store when the Application initializes (again after a restart); the default
opens SQLite on `settings.database`."""


def random_number(now: datetime) -> str:
    return format_number(now, secrets.randbits(RANDOM_BITS))


@dataclass
class Runtime:
    """What the handlers need, built once per Application. The store opens in post_init."""

    settings: Settings
    clock: Clock
    desk: Desk
    renderer: Renderer
    sinks: list[EventSink] = field(default_factory=list)
    store_: Store | None = None
    outbox: Outbox | None = None
    menus: set[int] = field(default_factory=set)  # operators whose command menu is set
    sweeper: Sweeper | None = None
    broadcaster: Broadcaster | None = None
    exporter: Exporter | None = None
    # Updates whose answers were sent: their kept answers are dropped in the next update's
    # transaction (no round trip of their own; flows/redelivery.py).
    delivered: list[int] = field(default_factory=list)

    @property
    def store(self) -> Store:
        assert self.store_ is not None, "the store opens when the Application initializes"
        return self.store_

    def publish(self, event: DomainEvent) -> None:
        log.info("event %s %s", event.name, dict(event.data))
        for sink in self.sinks:
            sink(event)


def runtime(app: AnyApp) -> Runtime:
    rt: Runtime = app.bot_data["runtime"]
    return rt


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update: translate in, run it as one transaction, then send what it produced."""
    inbound = to_inbound(update)
    if inbound is None:
        ingress.report("ignored")
        return
    rt = runtime(context.application)
    now = rt.clock.now()
    delivered, rt.delivered = tuple(rt.delivered), []
    try:
        outcome = await rt.store.transact(
            partial(rt.desk.handle, inbound=inbound, now=now, delivered=delivered)
        )
    except BaseException:
        rt.delivered.extend(delivered)
        raise
    answers = bool(outcome.replies or outcome.notice)
    ingress.report(("resent" if answers else "duplicate") if outcome.duplicate else "handled")
    for event in outcome.events:
        rt.publish(event)
    if outcome.notified and rt.outbox is not None:
        rt.outbox.kick()
    await _first_write(context.bot, rt, inbound.user.id)
    try:
        await rt.renderer.reply(context.bot, inbound.user.id, outcome, update.callback_query)
        if answers:
            rt.delivered.append(inbound.update_id)
    except Forbidden:  # they blocked the bot while we were answering: remember it, no error
        await rt.store.transact(
            partial(after_send.blocked, user_id=inbound.user.id, notification_id=None, now=now)
        )


async def _first_write(bot: Bot, rt: Runtime, user_id: int) -> None:
    """Someone wrote, so their chat exists now: an operator's command menu is set at once
    (it could not be before), and notifications kept for them are sent."""
    if user_id in rt.settings.operator_ids and user_id not in rt.menus:
        await operator_menu(bot, rt, user_id)
    if rt.outbox is not None:
        await rt.outbox.arrived(user_id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log ids and the traceback; give the person a short apology in their language.

    The apology is a message, never a second answer to a button tap: the tap was answered (or
    failed to be) by the delivery, and a second answer is refused by Telegram ("query is too
    old"). It goes through the same retries as every reply, after what could be delivered.
    """
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    rt = runtime(context.application)
    user_id = update.effective_user.id
    language = resolve_language(
        update.effective_user.language_code, rt.desk.rules.catalog.codes, rt.desk.default_language
    )
    text = rt.renderer.text(language, "errors.internal", {})
    try:
        await rt.renderer.persist(lambda: context.bot.send_message(user_id, text), "apology")
    except Exception:  # the apology is best effort; the failure is logged above
        log.warning("could not send the apology for update %s", update_id, exc_info=True)


async def publish_commands(bot: Bot, rt: Runtime) -> None:
    """Telegram's command menu, per language; operators also see theirs, in their chats only.

    The default language's menu is the one without a language code (Telegram shows it to
    everyone whose language has no menu of its own); every other language of the catalog gets
    its own under its primary subtag ("en"). Never fatal: a call that still fails after a few
    tries is logged and the bot starts without (the rest of) the menu; it is published again at
    the next start.
    """
    persist = Persist(rt.clock, attempts=3)
    try:
        for language, code in _command_languages(rt.desk.rules):

            def menu(names: tuple[str, ...], language: str = language) -> list[BotCommand]:
                return [
                    BotCommand(c, plain(rt.renderer.text(language, f"command.{c}", {})))
                    for c in names
                ]

            commands = menu(MENU_COMMANDS)
            await persist(partial(bot.set_my_commands, commands, language_code=code), "commands")
            about = plain(rt.renderer.text(language, "bot.description", {}))
            short = plain(rt.renderer.text(language, "bot.short_description", {}))
            await persist(partial(bot.set_my_description, about, language_code=code), "about")
            await persist(partial(bot.set_my_short_description, short, language_code=code), "about")
    except TelegramError as error:
        log.error("command menu not published (%s); starting without it", type(error).__name__)
    for operator_id in sorted(rt.settings.operator_ids):
        await operator_menu(bot, rt, operator_id)


async def operator_menu(bot: Bot, rt: Runtime, operator_id: int) -> None:
    """An operator's menu (theirs in their chat only), in each language. An operator who never
    opened the bot has no chat yet: set when they first write (`_first_write`)."""
    persist = Persist(rt.clock, attempts=3)
    try:
        for language, code in _command_languages(rt.desk.rules):
            commands = [
                BotCommand(c, plain(rt.renderer.text(language, f"command.{c}", {})))
                for c in MENU_COMMANDS + OPERATOR_COMMANDS
            ]
            scope = BotCommandScopeChat(operator_id)
            call = partial(bot.set_my_commands, commands, scope=scope, language_code=code)
            await persist(call, "operator commands")
    except BadRequest as error:
        log.warning("no command menu for operator %s yet: %s", operator_id, error.message)
        return
    except TelegramError as error:
        log.warning("command menu for operator %s failed: %s", operator_id, type(error).__name__)
        return
    rt.menus.add(operator_id)


def _command_languages(rules: Rules) -> list[tuple[str, str | None]]:
    """(language, Telegram language_code) of each command menu: the default one first."""
    menus: list[tuple[str, str | None]] = [(rules.default_language, None)]
    taken = {primary_subtag(rules.default_language)}
    for language in rules.catalog.codes:
        if primary_subtag(language) not in taken:
            taken.add(primary_subtag(language))
            menus.append((language, primary_subtag(language)))
    return menus


def build_application(
    settings: Settings,
    *,
    clock: Clock,
    request: BaseRequest | None = None,
    catalog: Catalog | None = None,
    translator: Translator | None = None,
    sinks: list[EventSink] | None = None,
    store: StoreFactory | None = None,
) -> AnyApp:
    """Build the bot. `request` replaces the HTTP transport (the fake Telegram in tests);
    `store` opens the storage (default: `settings.database`, a SQLite file or PostgreSQL)."""
    catalog = catalog or load_catalog(settings.catalog)
    translator = translator or Translator.load(settings.locales)
    translator.require(catalog.codes)  # every language of the catalog has its texts
    rt = Runtime(
        settings=settings,
        clock=clock,
        desk=Desk(
            Rules(
                catalog,
                random_number,
                settings.default_language,
                settings.operator_ids,
                settings.retention_days,
            ),
            REGISTRY,
        ),
        renderer=Renderer(translator, clock),
        sinks=list(sinks or []),
    )

    async def open_configured() -> Store:  # the database setting picks SQLite or PostgreSQL
        return await open_store(
            settings.database,
            now=clock.now(),
            default_language=rt.desk.default_language,
            migrate=settings.migrate_on_start,
        )

    async def post_init(app: AnyApp) -> None:
        await publish_commands(app.bot, rt)
        rt.store_ = opened = await (store or open_configured)()  # nothing after this may fail, or
        # the store's thread would keep the process alive
        rt.outbox = Outbox(opened, clock, rt.renderer, app.bot)
        await rt.outbox.load()  # who has notifications kept for later
        rt.sweeper = Sweeper(
            opened, clock, rt.desk.rules, rt.outbox.kick, interval=settings.sweep_seconds
        )
        rt.sweeper.start()
        rt.broadcaster = Broadcaster(
            opened,
            clock,
            rt.renderer,
            rt.desk.rules,
            rt.publish,
            app.bot,
            batch=settings.broadcast_batch,
        )
        rt.sinks.append(rt.broadcaster.on_event)  # confirm / resume kick it, pause stops it
        rt.broadcaster.start()  # recovers rows left in flight, continues running broadcasts
        rt.exporter = Exporter(opened, rt.renderer, app.bot)
        rt.sinks.append(rt.exporter.on_event)  # /export: a CSV built in batches, then sent

    async def post_stop(app: AnyApp) -> None:
        if rt.sweeper is not None:
            await rt.sweeper.stop()
        if rt.broadcaster is not None:
            await rt.broadcaster.stop()
        if rt.exporter is not None:
            await rt.exporter.wait()

    async def post_shutdown(app: AnyApp) -> None:
        if rt.store_ is not None:
            await rt.store_.close()
            rt.store_ = None

    # Every Bot API call goes through the pacer (replies, notifications, broadcasts).
    pacer = Pacer(clock, settings.broadcast_rate)
    builder = ApplicationBuilder().rate_limiter(pacer).concurrent_updates(PerUserProcessor())
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    builder = builder.token(token or "123456:FAKE-TOKEN-FOR-THE-LOCAL-FAKE-TELEGRAM")
    if request is not None:  # the fake Telegram: updates are handed over, not polled
        builder = builder.request(request).get_updates_request(request)
    else:  # over HTTP: Telegram, a self-hosted Bot API server, or the fake's HTTP front
        builder = builder.base_url(settings.telegram_api_base_url)
        builder = builder.base_file_url(settings.telegram_api_file_url)
    builder = builder.updater(None)  # updates come in through bot/polling.py or bot/serve.py
    app = builder.post_init(post_init).post_stop(post_stop).post_shutdown(post_shutdown).build()
    app.bot_data["runtime"] = rt
    app.add_handler(TypeHandler(Update, on_update))
    app.add_error_handler(on_error)
    return app
