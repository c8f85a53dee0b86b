"""The fake Telegram over real HTTP: a Bot API server on 127.0.0.1 in front of one `FakeTelegram`.

The second front-end of the one strict world (the first is `FakeRequest`, in process): the
real `complaint-desk run` / `serve` processes reach it through `TELEGRAM_API_BASE_URL`.

- `POST /bot<token>/<method>`: the world's Bot API, from form or multipart bodies, with
  Telegram's status codes and envelopes. A wrong token is 401 (PTB: InvalidToken).
- `getUpdates` is served here: long polls (up to `timeout`, at most 10 s) on the updates not yet
  confirmed; an update is confirmed when a later call passes an `offset` above its id, as in
  Telegram. While a webhook is set, getUpdates is 409 and updates are POSTed to the webhook
  with the `X-Telegram-Bot-Api-Secret-Token` header, again (a few times, after a pause) when the
  answer is not a 2xx, one delivery at a time per user (Telegram keeps a chat's order).
- `GET /file/bot<token>/<path>`: file downloads.
- `/sim/*` (JSON): the test's side. Users act (`text`, `tap`), an update is handed over again
  (`deliver`), faults are set (`fault`), and the world is read (`chat`, `calls`, `state`).
  `POST /sim/wait` blocks until an update was fetched or delivered (bounded by its `timeout`).

Run: `python -m bot.fake.http --token 123:ABC [--port 0]`; prints `{"port": N}` when listening.
A time-out fault cannot be a lost answer over HTTP here: it is answered 504 (a NetworkError).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.clock import SystemClock
from bot.fake.models import JSON, SimulatedTimeout
from bot.fake.world import FakeTelegram, UploadedFiles

LONG_POLL_CAP = 10.0
WEBHOOK_ATTEMPTS = 8


def _value(raw: str) -> Any:
    """PTB sends every parameter as text, objects and booleans JSON-encoded."""
    if raw in ("true", "false", "null") or raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


class HttpFront:
    def __init__(self, world: FakeTelegram, token: str) -> None:
        self.world = world
        self.token = token
        self.pending: list[JSON] = []  # not confirmed yet (getUpdates mode)
        self.fetched: dict[int, int] = defaultdict(int)  # update id -> times returned
        self.deliveries: list[tuple[int, int]] = []  # webhook: (update id, HTTP status or 0)
        self.posting: dict[int, int] = defaultdict(int)  # webhook: update id -> POSTs begun
        self.webhook_url = ""
        self.webhook_secret = ""
        self._changed = asyncio.Condition()
        self._user_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[None]] = set()
        self._http = httpx.AsyncClient(timeout=60.0)

    # ---- updates in ------------------------------------------------------------------------

    async def hand_over(self, update: JSON) -> None:
        if self.webhook_url:
            task = asyncio.create_task(self._post(update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self.pending.append(update)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _post(self, update: JSON) -> None:
        user = _sender(update)
        async with self._user_locks[user]:
            for attempt in range(WEBHOOK_ATTEMPTS):
                self.posting[update["update_id"]] += 1
                await self._notify()
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
                try:
                    answer = await self._http.post(self.webhook_url, json=update, headers=headers)
                    status = answer.status_code
                except httpx.HTTPError:
                    status = 0
                self.deliveries.append((update["update_id"], status))
                await self._notify()
                if 200 <= status < 300:
                    return
                await asyncio.sleep(min(0.1 * 2**attempt, 2.0))

    async def get_updates(self, params: JSON) -> tuple[int, JSON]:
        if self.webhook_url:
            return 409, _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        if not self.pending and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self.pending)), timeout
                    )
        batch = self.pending[:limit]
        for update in batch:
            self.fetched[update["update_id"]] += 1
        await self._notify()
        return 200, {"ok": True, "result": batch}

    # ---- the Bot API -----------------------------------------------------------------------

    async def api(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse(_error(401, "Unauthorized"), status_code=401)
        method = request.path_params["method"]
        params, files = await _parameters(request)
        if method.lower() == "getupdates":
            status, body = await self.get_updates(params)
            return JSONResponse(body, status_code=status)
        try:
            status, body = self.world.handle(method, params, files)
        except SimulatedTimeout:
            return JSONResponse(_error(504, "Gateway Timeout"), status_code=504)
        if status == 200 and method.lower() == "setwebhook":
            self.webhook_url = str(params.get("url") or "")
            self.webhook_secret = str(params.get("secret_token") or "")
        elif status == 200 and method.lower() == "deletewebhook":
            self.webhook_url = self.webhook_secret = ""
        return JSONResponse(body, status_code=status)

    async def file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse(_error(401, "Unauthorized"), status_code=401)
        data = self.world.download(request.path_params["path"])
        if data is None:
            return JSONResponse(_error(404, "Not Found"), status_code=404)
        return Response(data, media_type="application/octet-stream")

    # ---- the test's side -------------------------------------------------------------------

    async def sim(self, request: Request) -> Response:
        action = request.path_params["action"]
        body: JSON = await request.json() if request.method == "POST" else {}
        query = dict(request.query_params)
        handler = getattr(self, f"sim_{action}", None)
        if handler is None:
            return JSONResponse({"error": f"no /sim/{action}"}, status_code=404)
        try:
            result = await handler(body | query)
        except (LookupError, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse(result)

    async def sim_text(self, body: JSON) -> JSON:
        user = self._actor(body)
        return await self._act(self.world.user_text(user, str(body["text"])), body)

    async def sim_tap(self, body: JSON) -> JSON:
        user = self._actor(body)
        update = self.world.user_tap(user, label=body.get("label"), data=body.get("data"))
        return await self._act(update, body)

    async def sim_deliver(self, body: JSON) -> JSON:
        await self.hand_over(body["update"])
        return {"update": body["update"]}

    async def sim_fault(self, body: JSON) -> JSON:
        self.world.fault(**body)
        return {}

    async def sim_chat(self, body: JSON) -> JSON:
        user = int(body["user"])
        messages = [
            {
                "message_id": m.message_id,
                "text": m.text,
                "buttons": [[[b.label, b.data] for b in row] for row in m.buttons],
            }
            for m in self.world.bot_messages(user)
        ]
        return {"messages": messages}

    async def sim_calls(self, body: JSON) -> JSON:
        calls = self.world.calls(body.get("method"))
        return {
            "calls": [
                {
                    "method": c.method,
                    "ok": c.ok,
                    "code": c.error_code,
                    "params": _jsonable(c.params),
                }
                for c in calls
            ],
            "unanswered_callbacks": self.world.unanswered_callbacks(),
            "unknown_methods": self.world.unknown_methods(),
        }

    async def sim_state(self, body: JSON) -> JSON:
        return {
            "pending": [u["update_id"] for u in self.pending],
            "fetched": {str(k): v for k, v in self.fetched.items()},
            "deliveries": self.deliveries,
            "webhook": self.webhook_url,
            "commands": len(self.world.commands),
        }

    async def sim_wait(self, body: JSON) -> JSON:
        """Until update `update_id` was fetched (or its POST begun), at most `timeout` s."""
        update_id = int(body["update_id"])

        def seen() -> bool:
            return self.fetched.get(update_id, 0) > 0 or self.posting.get(update_id, 0) > 0

        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(seen), float(body.get("timeout", 30)))
        return {"seen": seen()}

    def _actor(self, body: JSON) -> int:
        user = int(body["user"])
        self.world.add_user(user, str(body.get("first_name") or ""), body.get("language"))
        return user

    async def _act(self, update: JSON, body: JSON) -> JSON:
        if body.get("hand_over", True):
            await self.hand_over(update)
        return {"update": update}

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self.api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self.file, methods=["GET"]),
                Route("/sim/{action}", self.sim, methods=["GET", "POST"]),
            ]
        )


def _sender(update: JSON) -> int:
    for kind in ("message", "callback_query", "edited_message"):
        if kind in update:
            return int(update[kind]["from"]["id"])
    return 0


def _error(code: int, description: str) -> JSON:
    return {"ok": False, "error_code": code, "description": description}


def _jsonable(params: JSON) -> JSON:
    return {
        k: v if isinstance(v, str | int | float | bool | list | dict | None) else str(v)
        for k, v in params.items()
    }


async def _parameters(request: Request) -> tuple[JSON, UploadedFiles]:
    content_type = request.headers.get("content-type", "")
    files: UploadedFiles = {}
    if content_type.startswith("multipart/"):
        params: JSON = {}
        async with request.form() as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    files[name] = (value.filename or name, data, value.content_type or "")
                else:
                    params[name] = _value(value)
        return params, files
    body = (await request.body()).decode()
    if content_type.startswith("application/json"):
        return (json.loads(body) if body else {}), files
    return {k: _value(v) for k, v in parse_qsl(body, keep_blank_values=True)}, files


async def serve(token: str, port: int) -> None:
    front = HttpFront(FakeTelegram(SystemClock()), token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    config = uvicorn.Config(front.app(), log_level="warning", lifespan="off")
    await uvicorn.Server(config).serve(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.fake.http", description=__doc__)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.token, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
