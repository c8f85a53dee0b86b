"""`/export`: a CSV of complaints, built off the update path and sent as a document.

The command (`flows.triage.export_command`) checks its arguments and publishes
`export.requested`; this sink then reads the complaints in batches of `batch` rows (each batch
one read, keyed on (submitted_at, number), so nothing is skipped or repeated and no offset
grows), writes each row to a temporary file on disk, and sends the file. Memory stays flat
whatever the range: at most one batch of records at a time.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import tempfile
from datetime import datetime
from functools import partial

from telegram import Bot, InputFile
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.render import Renderer
from flows.ports import Tx
from flows.records import ComplaintRecord, Stage
from flows.replies import DomainEvent
from storage.base import Store

log = logging.getLogger("complaint_desk.export")

COLUMNS = (
    "number",
    "submitted_at",
    "type",
    "stage",
    "user_id",
    "language",
    "target",
    "operator_id",
    "evidence",
    "loss_reported",
    "revoked_at",
    "description",
)


def row(c: ComplaintRecord) -> list[str]:
    return [
        c.number,
        c.submitted_at.isoformat(),
        c.type_id,
        c.stage.value,
        str(c.user_id),
        c.language,
        c.target,
        str(c.operator_id or ""),
        str(len(c.evidence)),
        "yes" if c.loss_reported else "no",
        c.revoked_at.isoformat() if c.revoked_at else "",
        c.description,
    ]


class Exporter:
    def __init__(self, store: Store, renderer: Renderer, bot: Bot, batch: int = 500) -> None:
        self.store = store
        self.renderer = renderer
        self.bot = bot
        self.batch = batch
        self.largest_batch = 0  # rows held at once, at most (for tests)
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: DomainEvent) -> None:
        if event.name != "export.requested":
            return
        task = asyncio.create_task(self.run(dict(event.data)), name="export")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until the exports under way are sent (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run(self, data: dict[str, object]) -> None:
        operator = int(str(data["operator"]))
        start = datetime.fromisoformat(str(data["start"]))
        end = datetime.fromisoformat(str(data["end"]))
        stage = Stage(str(data["stage"])) if data.get("stage") else None
        with tempfile.NamedTemporaryFile(suffix=".csv") as spool:  # on disk: memory stays flat
            text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
            count = await self.write(text, start, end, stage)
            text.flush()
            spool.seek(0)
            caption = self.renderer.text(
                str(data["language"]), "operator.export_done", {"count": count}
            )
            name = f"complaints-{start:%Y%m%d}-{end:%Y%m%d}.csv"
            try:
                await self.bot.send_document(
                    operator,
                    InputFile(spool, filename=name),
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                )
            except TelegramError as error:
                log.warning("export to %s not sent: %s", operator, type(error).__name__)
            text.detach()
        log.info("export to %s: %s rows", operator, count)

    async def write(
        self, out: io.TextIOBase, start: datetime, end: datetime, stage: Stage | None
    ) -> int:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        count = 0
        after: tuple[datetime, str] | None = None
        while True:
            batch = await self.store.read(partial(_batch, start, end, stage, after, self.batch))
            if not batch:
                return count
            self.largest_batch = max(self.largest_batch, len(batch))
            writer.writerows(row(c) for c in batch)
            count += len(batch)
            after = (batch[-1].submitted_at, batch[-1].number)


def _batch(
    start: datetime,
    end: datetime,
    stage: Stage | None,
    after: tuple[datetime, str] | None,
    limit: int,
    tx: Tx,
) -> list[ComplaintRecord]:
    return tx.export_batch(start, end, stage, after, limit)
