"""FakeRequest: python-telegram-bot's HTTP seam, routed into a FakeTelegram world.

PTB builds every Bot API call as `POST <base_url><token>/<method>` and every file download as
`GET <base_file_url><token>/<file_path>`; this class answers both from the world, with the same
status codes and JSON envelopes as Telegram, so PTB raises its own BadRequest, Forbidden,
RetryAfter... exactly as in production.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.fake.models import SimulatedTimeout
from bot.fake.world import FakeTelegram, UploadedFiles


def _read(content: Any) -> bytes:
    if isinstance(content, bytes):
        return content
    data = content.read()
    return data if isinstance(data, bytes) else bytes(data)


def decode_request(request_data: RequestData | None) -> tuple[dict[str, Any], UploadedFiles]:
    """The call's parameters as Python values, and its multipart uploads."""
    if request_data is None:
        return {}, {}
    params: dict[str, Any] = dict(request_data.parameters)
    files: UploadedFiles = {}
    if request_data.contains_files:
        for name, (file_name, content, mime) in request_data.multipart_data.items():
            files[name] = (file_name, _read(content), mime)
    return params, files


class FakeRequest(BaseRequest):
    """A `BaseRequest` that never touches the network: every call goes to `world`."""

    def __init__(self, world: FakeTelegram) -> None:
        self.world = world

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await asyncio.sleep(0)  # a real request yields to the loop; keep interleavings honest
        parts = unquote(urlsplit(url).path).strip("/").split("/")
        if method == "GET" and len(parts) >= 3 and parts[0] == "file":
            data = self.world.download("/".join(parts[2:]))
            if data is None:
                return 404, json.dumps(
                    {"ok": False, "error_code": 404, "description": "Not Found"}
                ).encode()
            return 200, data
        params, files = decode_request(request_data)
        try:
            status, body = self.world.handle(parts[-1], params, files)
        except SimulatedTimeout as exc:
            raise TimedOut(f"Timed out (fake fault on {exc})") from exc
        return status, json.dumps(body).encode()
