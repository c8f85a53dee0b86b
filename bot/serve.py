"""`complaint-desk serve`: the webhook, an ASGI app (starlette on uvicorn) around the same
Application, in the shape of PTB's custom-webhook example (`updater(None)`), but an update is
answered only once it is handled:

- `POST /telegram/<secret path>`: the `X-Telegram-Bot-Api-Secret-Token` header must equal
  WEBHOOK_SECRET (403 otherwise, logged). The update is handled (bot/ingress.py) and 200 is
  answered only after its transaction committed (its replies sent or given up); 500 when it
  did not, so Telegram delivers it again, and the `update_id` claim makes that safe.
- `GET /healthz`: 200 when the database answers with every migration applied and the
  background workers run; 503 with the problems otherwise.
- `GET /metrics`: Prometheus text (bot/metrics.py).

At start-up the Application starts (the store opens, the command menu is published) and
`setWebhook` is called with WEBHOOK_URL + the secret path, the secret, `allowed_updates` and
`max_connections`. On SIGTERM uvicorn stops accepting, finishes the requests in hand (each
update in hand is committed and answered), then the Application stops. The webhook is left set:
other instances behind the same URL keep serving it. (uvicorn then re-raises the SIGTERM, so
the exit status is that of the signal, which systemd counts as a clean stop.)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import sqlite3
from collections.abc import AsyncIterator
from functools import partial

import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import AnyApp, build_application, runtime
from bot.clock import SystemClock
from bot.config import Settings
from bot.ingress import feed, running
from bot.metrics import CONTENT_TYPE, METRICS, snapshot, store_counts
from storage.factory import is_postgres
from storage.migrations import MIGRATIONS, applied_migrations
from storage.pg_migrations import PG_MIGRATIONS

log = logging.getLogger("complaint_desk.serve")

HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHECK_SECONDS = 5.0


def secret_path(secret: str) -> str:
    """The webhook's path: derived from the secret, so it is not guessable either."""
    return "/telegram/" + hashlib.sha256(f"path:{secret}".encode()).hexdigest()[:32]


class Webhook:
    def __init__(self, app: AnyApp, settings: Settings) -> None:
        if settings.webhook_secret is None or not settings.webhook_url:
            raise ValueError("serve needs WEBHOOK_URL and WEBHOOK_SECRET")
        if settings.telegram_bot_token is None:
            raise ValueError("serve needs TELEGRAM_BOT_TOKEN")
        self.app = app
        self.settings = settings
        self.secret = settings.webhook_secret.get_secret_value()
        self.path = secret_path(self.secret)

    async def receive(self, request: Request) -> Response:
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            client = request.client.host if request.client else "?"
            log.warning("webhook: wrong or missing secret token from %s; refused", client)
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), self.app.bot)
        except Exception:
            log.warning("webhook: a body that is not an update; refused")
            return Response(status_code=400)
        receipt = await feed(self.app, update)
        return Response(status_code=200 if receipt.committed else 500)

    async def healthz(self, request: Request) -> Response:
        problems = await self.problems()
        body = {"ok": not problems, "problems": problems}
        return JSONResponse(body, status_code=503 if problems else 200)

    async def problems(self) -> list[str]:
        rt = runtime(self.app)
        found: list[str] = []
        try:
            await asyncio.wait_for(asyncio.to_thread(self._schema_check), CHECK_SECONDS)
        except Exception as error:
            found.append(f"database: {type(error).__name__}: {error}")
        else:
            try:  # and the running store itself answers
                await asyncio.wait_for(
                    rt.store.read(lambda tx: tx.pending_notifications(1)), CHECK_SECONDS
                )
            except Exception as error:
                found.append(f"database: {type(error).__name__}")
        if rt.sweeper is None or not rt.sweeper.alive:
            found.append("sweeper not running")
        if rt.broadcaster is None or not rt.broadcaster.alive:
            found.append("broadcaster crashed")
        return found

    def _schema_check(self) -> None:
        """A fresh connection: the database is there and every migration is applied."""
        database = self.settings.database
        if is_postgres(database):
            with psycopg.connect(str(database), connect_timeout=int(CHECK_SECONDS)) as pg:
                applied = {str(row[0]) for row in pg.execute("SELECT name FROM migrations")}
            known = {name for name, _ in PG_MIGRATIONS}
        else:
            conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=CHECK_SECONDS)
            try:
                applied = set(applied_migrations(conn))
            finally:
                conn.close()
            known = {name for name, _ in MIGRATIONS}
        if known - applied:
            raise RuntimeError(f"migrations not applied: {', '.join(sorted(known - applied))}")

    async def metrics(self, request: Request) -> Response:
        rt = runtime(self.app)
        try:
            now = rt.clock.now()
            sampled = await rt.store.read(partial(snapshot, now=now))
            METRICS.sample(sampled | store_counts(rt.store))
        except Exception:
            log.warning("metrics: could not read the database", exc_info=True)
        return Response(METRICS.render(), media_type=CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        async with running(self.app):
            url = self.settings.webhook_url.rstrip("/") + self.path  # type: ignore[union-attr]
            await self.app.bot.set_webhook(
                url,
                secret_token=self.secret,
                allowed_updates=list(self.settings.allowed_updates),
                max_connections=self.settings.webhook_max_connections,
            )
            log.info("webhook set; serving on %s", self.settings.webhook_port)
            yield
        log.info("stopped: requests in hand finished, the store closed")

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                Route(self.path, self.receive, methods=["POST"]),
                Route("/healthz", self.healthz, methods=["GET"]),
                Route("/metrics", self.metrics, methods=["GET"]),
            ],
            lifespan=self.lifespan,
        )


def serve(settings: Settings) -> int:
    app = build_application(settings, clock=SystemClock())
    webhook = Webhook(app, settings)
    config = uvicorn.Config(
        webhook.asgi(),
        host=settings.webhook_listen,
        port=settings.webhook_port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=60,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1
