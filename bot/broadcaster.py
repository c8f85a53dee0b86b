"""The broadcast sender: works through each running broadcast's delivery ledger, paced.

One sender per process, started in `post_init` and stopped in `post_stop` (like the outbox
sender). It wakes when kicked (a broadcast was confirmed or resumed, or at start-up) and runs
until no broadcast is running; when nothing is running it holds no task at all.

For each running broadcast, in turns of one batch (`batch`, 20 by default, under a second of
sending):

1. claim the next `batch` pending recipients (pending -> sending), lowest user id first, in
   one transaction: only one batch is ever in memory, so 100,000 recipients cost no more
   memory than 1,000;
2. send each one through the pacer's bulk lane (`bot.pacer`: at most the configured rate
   overall, shared with interactive replies, and one message a second per chat), the batch's
   sends concurrently so a slow round trip does not slow the rate;
3. record every outcome in one transaction (if that write fails, e.g. the database is busy,
   it is retried until it succeeds, so the batch's rows always end terminal or pending):
   - sent, with Telegram's message id;
   - blocked (403): the user is marked as having blocked the bot (left out of later
     broadcasts until they write again) and is never retried;
   - 429 (`RetryAfter`): the row goes back to pending (nothing is dropped) and the pacer holds
     every bulk send for `retry_after`;
   - a 400 (`BadRequest`, incl. `ChatMigrated`) or any other answer from Telegram: failed at
     once with Telegram's reason (it would be refused again);
   - any error that can come after the request was sent (`NetworkError`: a dropped
     connection, a 5xx or 502 as PTB raises them, `TimedOut`): `unknown`. Telegram may have
     delivered it and offers no idempotency, so it is never resent (at most once);
   - withdrawn before it was sent (the broadcast was paused or cancelled, or the process is
     stopping): back to pending.

Crash policy (at-most-once): a row is `sending` from its claim until its batch's outcomes
are recorded. If the process dies in between, nobody knows which of that batch's messages went
out, so at the next start `recover_in_flight` marks every `sending` row `unknown`: they are
**not resent**, and the report counts them as "unknown". At most one batch per running
broadcast is affected; every other recipient receives the broadcast exactly once. A clean stop
(`stop()`) lets the current batch finish (unsent rows are put back to pending), so it leaves
no `unknown` rows.

Progress: one status message to the operator, sent when the broadcast starts and edited in
place every `progress_seconds` of clock time or `progress_sends` sends, whichever comes first
(sent / total, blocked, failed, unknown, rate, time left; pause / cancel or resume / cancel
buttons), then turned into the final report.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.clock import Clock
from bot.pacer import Bulk, Withdrawn
from bot.render import Renderer
from bot.transport import call
from flows import after_send
from flows.broadcast import status_view
from flows.context import Rules
from flows.ports import Tx
from flows.records import Broadcast, BroadcastStatus, DeliveryState, UserRecord
from flows.replies import DomainEvent
from storage.base import Store

log = logging.getLogger("complaint_desk.broadcaster")

_RUNNING = frozenset({BroadcastStatus.RUNNING})
Outcome = tuple[int, DeliveryState | None, int | None, str]  # user, state (None: release), ...


@dataclass
class _Progress:
    at: datetime  # when the status message was last written
    done: int  # recipients handled then
    sends: int = 0  # sends since
    rate: float | None = None


def record(tx: Tx, broadcast_id: int, outcomes: Sequence[Outcome], now: datetime) -> None:
    """One batch's outcomes, in one transaction."""
    for user_id, state, message_id, error in outcomes:
        if state is None:
            tx.release_delivery(broadcast_id, user_id, now)
            continue
        tx.finish_delivery(broadcast_id, user_id, state, now, message_id, error[:500])
        if state is DeliveryState.BLOCKED:
            after_send.blocked(tx, user_id, None, now)


def advance(
    tx: Tx,
    broadcast_id: int,
    outcomes: Sequence[Outcome],
    now: datetime,
    claim: bool,
    batch: int,
) -> tuple[Broadcast | None, list[int], bool]:
    """Record a batch's outcomes and claim the next batch (if `claim` and still running), in
    one transaction. A running broadcast with nobody left to claim is done. Returns the
    broadcast, the claimed user ids and whether it just finished."""
    record(tx, broadcast_id, outcomes, now)
    b = tx.get_broadcast(broadcast_id)
    if b is None or b.status is not BroadcastStatus.RUNNING or not claim:
        return b, [], False
    claimed = tx.claim_deliveries(broadcast_id, batch, now)
    if claimed:
        return b, claimed, False
    done = tx.set_broadcast_status(broadcast_id, BroadcastStatus.DONE, now, _RUNNING)
    return tx.get_broadcast(broadcast_id), [], done


def _status(
    tx: Tx, broadcast_id: int
) -> tuple[Broadcast | None, dict[DeliveryState, int], UserRecord | None]:
    b = tx.get_broadcast(broadcast_id)
    if b is None:
        return None, {}, None
    return b, tx.delivery_counts(broadcast_id), tx.load_user(b.operator_id)


def _handled(counts: dict[DeliveryState, int]) -> int:
    return (
        sum(counts[s] for s in DeliveryState)
        - counts[DeliveryState.PENDING]
        - counts[DeliveryState.SENDING]
    )


class Broadcaster:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        renderer: Renderer,
        rules: Rules,
        publish: Callable[[DomainEvent], None],
        bot: ExtBot[Any],
        *,
        batch: int = 20,
        progress_seconds: float = 5.0,
        progress_sends: int = 100,
        retry_seconds: float = 1.0,
        stop_timeout: float = 10.0,
        turn_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.renderer = renderer
        self.rules = rules
        self.publish = publish  # domain events (broadcast.done)
        self.bot = bot
        self.batch = batch
        self.progress_seconds = progress_seconds
        self.progress_sends = progress_sends
        self.retry_seconds = retry_seconds
        self.stop_timeout = stop_timeout
        self.turn_seconds = turn_seconds
        self.recovered = 0  # rows found in flight at start-up (now `unknown`)
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._recover = True
        self._stopping = False
        self._halted: set[int] = set()  # paused or cancelled while a batch was out
        self._progress: dict[int, _Progress] = {}

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """At start-up: recover rows left in flight, then carry on with running broadcasts."""
        self.kick()

    @property
    def alive(self) -> bool:
        """False once a drain ended in an exception (it runs only while there is work)."""
        task = self._task
        return task is None or not task.done() or task.cancelled() or task.exception() is None

    def kick(self) -> None:
        """Work through the running broadcasts soon; if already at it, go round once more."""
        if self._stopping:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._drain(), name="broadcaster")

    def on_event(self, event: DomainEvent) -> None:
        """A sink for domain events: the buttons and the compose flow reach the sender here."""
        ident = event.data.get("id")
        if not isinstance(ident, int):
            return
        if event.name in ("broadcast.paused", "broadcast.cancelled"):
            self._halted.add(ident)
        elif event.name in ("broadcast.created", "broadcast.running"):
            self._halted.discard(ident)
            self._progress.pop(ident, None)  # measure the rate afresh
            self.kick()

    async def stop(self) -> None:
        """Let the current batch finish (its unsent rows go back to pending), then stop."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None or task.done():
            return
        # Awaited directly (no wait_for/shield wrapper), so the simulator sees this stop
        # waiting on the drain, and the drain on its clock; cancelled after `stop_timeout`.
        timer = asyncio.get_running_loop().call_later(self.stop_timeout, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this stop itself was cancelled
            log.warning("broadcaster: the batch in flight did not end in time; cancelled")
        finally:
            timer.cancel()

    # -- the work ------------------------------------------------------------------------

    async def _drain(self) -> None:
        store = self.store
        if self._recover:
            self._recover = False
            now = self.clock.now()
            self.recovered = await store.transact(lambda tx: tx.recover_in_flight(now))
            if self.recovered:
                log.warning("%d broadcast messages were in flight at a restart: unknown, "
                            "not resent", self.recovered)  # fmt: skip
        while not self._stopping:
            self._again = False
            running = await store.read(lambda tx: tx.active_broadcasts())
            if not running and not self._again:
                return
            for b in running:
                if self._stopping:
                    return
                assert b.id is not None
                try:
                    await self._turn(b.id)
                except Exception:  # keep going: one bad batch must not stop every broadcast
                    log.exception("broadcast %s: batch failed", b.id)
                    await self.clock.sleep(self.retry_seconds)

    async def _turn(self, broadcast_id: int) -> None:
        """Batches of one broadcast for up to `turn_seconds` (then the next broadcast's turn).

        Each batch's outcomes are recorded in the transaction that claims the next batch:
        one write transaction per batch.
        """
        clock = self.clock
        started = clock.now()
        outcomes: list[Outcome] = []
        first = True
        while True:
            more = not self._stopping and broadcast_id not in self._halted
            more = more and (clock.now() - started).total_seconds() < self.turn_seconds
            b, claimed, done = await self._advance(broadcast_id, outcomes, claim=first or more)
            if b is None:
                return
            if first:
                self._halted.discard(broadcast_id)  # running when claimed: any pause is over
            if done:
                self.publish(DomainEvent("broadcast.done", {"id": broadcast_id}))
            if outcomes or first:
                await self._progressed(b, len(outcomes), force=done)
            first = False
            if not claimed:
                return
            outcomes = await self._send_batch(b, claimed)

    async def _advance(
        self, broadcast_id: int, outcomes: list[Outcome], *, claim: bool
    ) -> tuple[Broadcast | None, list[int], bool]:
        """`advance` in one transaction. A batch's outcomes are never dropped: if the write
        fails (the database busy past its timeout, a lost connection), it is tried again until
        it succeeds, so no row is left `sending` (nor later taken for `unknown`)."""
        attempt = 0
        while True:
            work = partial(advance, broadcast_id=broadcast_id, outcomes=outcomes,
                           now=self.clock.now(), claim=claim, batch=self.batch)  # fmt: skip
            try:
                return await self.store.transact(work)
            except Exception as error:
                if not outcomes:
                    raise  # nothing in hand to lose: the drain logs it and goes on
                attempt += 1
                log.warning("broadcast %s: recording %d outcomes failed (%s, attempt %d); "
                            "retrying", broadcast_id, len(outcomes), type(error).__name__,
                            attempt)  # fmt: skip
                await self.clock.sleep(min(self.retry_seconds * attempt, 30.0))

    async def _send_batch(self, b: Broadcast, claimed: list[int]) -> list[Outcome]:
        # Concurrent sends, awaited one by one rather than with gather (the simulator sees a
        # task waiting on a task, not on a gather whose children just finished, as busy).
        sends = [asyncio.create_task(self._deliver(b, uid)) for uid in claimed]
        try:
            return [await send for send in sends]
        finally:
            for send in sends:  # if this batch is cancelled (a crash), so are its sends
                send.cancel()

    async def _progressed(self, b: Broadcast, sends: int, *, force: bool) -> None:
        """Rewrite the status message if it is due (or the broadcast stopped running)."""
        assert b.id is not None
        progress = self._progress.get(b.id)
        if progress is not None:
            progress.sends += sends
        due = (
            force
            or progress is None
            or b.progress_message_id is None
            or b.status is not BroadcastStatus.RUNNING
            or b.id in self._halted
            or progress.sends >= self.progress_sends
            or (self.clock.now() - progress.at).total_seconds() >= self.progress_seconds
        )
        if due:
            await self._refresh(b.id)
        if b.status is not BroadcastStatus.RUNNING:
            self._progress.pop(b.id, None)

    def _wanted(self, broadcast_id: int) -> bool:
        return not self._stopping and broadcast_id not in self._halted

    async def _deliver(self, b: Broadcast, user_id: int) -> Outcome:
        """One send; only an answer that proves non-delivery is anything but `unknown`."""
        assert b.id is not None
        ticket = Bulk(still_wanted=partial(self._wanted, b.id))
        try:
            message_id = await self._send(b, user_id, ticket)
        except (Withdrawn, RetryAfter):  # not sent (429: the pacer holds the bulk lane)
            return user_id, None, None, ""
        except Forbidden as error:
            return user_id, DeliveryState.BLOCKED, None, error.message
        except BadRequest as error:  # a 400 (PTB derives it from NetworkError): refused
            return user_id, DeliveryState.FAILED, None, error.message
        except NetworkError as error:  # incl. TimedOut and 5xx: it may have arrived
            log.info("broadcast %s to %s: %s; unknown", b.id, user_id, type(error).__name__)
            return user_id, DeliveryState.UNKNOWN, None, f"{type(error).__name__}: {error.message}"
        except TelegramError as error:  # any other refusal answered by Telegram
            return user_id, DeliveryState.FAILED, None, error.message
        return user_id, DeliveryState.SENT, message_id, ""

    async def _send(self, b: Broadcast, user_id: int, ticket: Bulk) -> int:
        """The operator's text as typed: plain text, no parse mode (see flows.broadcast).
        Returns the message id (all that is read of Telegram's answer: bot/transport.py)."""
        if b.photo_file_id:
            params = {"chat_id": user_id, "photo": b.photo_file_id, "caption": b.text or None}
            sent = await call(self.bot, "sendPhoto", params, ticket)
        else:
            sent = await call(self.bot, "sendMessage", {"chat_id": user_id, "text": b.text}, ticket)
        return int(sent["message_id"])

    # -- the operator's status message ---------------------------------------------------

    async def _refresh(self, broadcast_id: int) -> None:
        """Write the status message (send it the first time, then edit it in place)."""
        b, counts, operator = await self.store.read(partial(_status, broadcast_id=broadcast_id))
        if b is None:
            return
        now = self.clock.now()
        done = _handled(counts)
        progress = self._progress.get(broadcast_id)
        if progress is None:
            progress = self._progress[broadcast_id] = _Progress(at=now, done=done)
        elapsed = (now - progress.at).total_seconds()
        if elapsed >= 1.0:
            progress.rate = (done - progress.done) / elapsed
            progress.at, progress.done, progress.sends = now, done, 0
        reply = status_view(self.rules.catalog, b, counts, rate=progress.rate)
        language = operator.language if operator else self.rules.default_language
        text = self.renderer.text(language, reply.key, reply.params)
        markup = self.renderer.keyboard(reply.buttons, language, 0)
        html = {"parse_mode": ParseMode.HTML, "reply_markup": markup}
        try:
            if b.progress_message_id is None:
                params = {"chat_id": b.operator_id, "text": text, **html}
                sent = await call(self.bot, "sendMessage", params)
                message_id = int(sent["message_id"])
                await self.store.transact(
                    lambda tx: tx.set_progress_message(broadcast_id, message_id)
                )
            else:
                where = {"chat_id": b.operator_id, "message_id": b.progress_message_id}
                await call(self.bot, "editMessageText", {**where, "text": text, **html})
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                log.warning("broadcast %s: status message: %s", broadcast_id, error.message)
        except TelegramError as error:  # the status is best effort; the ledger is the truth
            log.warning("broadcast %s: status message: %s", broadcast_id, error.message)
