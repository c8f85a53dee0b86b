"""The process's numbers in Prometheus text format (`GET /metrics` of `complaint-desk serve`).

Counted as they happen: updates by kind and outcome, their handling time, replies tried again,
429 answers and the `retry_after` seconds they asked for. Sampled at each scrape, in one
read-only unit of work: the outbox backlog and the age of its oldest row, the broadcast ledger's
sent / blocked / failed rows, and the store's database round trips and version-conflict retries
(when the store counts them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from flows.ports import Tx
from flows.records import DeliveryState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BROADCASTS_SAMPLED = 100  # the most recent broadcasts summed into the ledger gauges


class Metrics(Collector):
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "complaint_desk_updates", "Updates by kind and outcome", ["kind", "outcome"], registry=r
        )
        self.latency = Histogram(
            "complaint_desk_update_seconds",
            "Time to handle one update (transaction and replies)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.rate_limited = Counter(
            "complaint_desk_telegram_429", "429 answers from the Bot API", registry=r
        )
        self.retry_after = Counter(
            "complaint_desk_retry_after_seconds", "Seconds 429 answers asked to wait", registry=r
        )
        self.reply_retries = Counter(
            "complaint_desk_reply_retries", "Reply calls tried again", registry=r
        )
        self._sampled: dict[str, float] = {}
        r.register(self)

    def observe_update(self, kind: str, outcome: str, seconds: float) -> None:
        self.updates.labels(kind, outcome).inc()
        self.latency.observe(seconds)

    def rate_limit(self, seconds: float) -> None:
        self.rate_limited.inc()
        self.retry_after.inc(seconds)

    def sample(self, values: dict[str, float]) -> None:
        """Numbers read at scrape time (see `snapshot`)."""
        self._sampled = dict(values)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        helps = {
            "outbox_backlog": "Notifications not sent yet",
            "outbox_oldest_seconds": "Age of the oldest unsent notification",
            "broadcast_sent": "Broadcast ledger rows sent",
            "broadcast_blocked": "Broadcast ledger rows blocked by the recipient",
            "broadcast_failed": "Broadcast ledger rows failed",
            "db_round_trips": "Units of work sent to the database",
            "version_conflict_retries": "Updates run again after a version conflict",
        }
        for name, value in self._sampled.items():
            yield GaugeMetricFamily(f"complaint_desk_{name}", helps.get(name, name), value=value)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def snapshot(tx: Tx, now: datetime) -> dict[str, float]:
    """The sampled numbers, read in one unit of work."""
    pending = tx.pending_notifications(100_000)
    oldest = min((note.created_at for note, _ in pending), default=now)
    totals = dict.fromkeys(DeliveryState, 0)
    for broadcast in tx.list_broadcasts(_BROADCASTS_SAMPLED):
        if broadcast.id is not None:
            for state, count in tx.delivery_counts(broadcast.id).items():
                totals[state] += count
    return {
        "outbox_backlog": len(pending),
        "outbox_oldest_seconds": max((now - oldest).total_seconds(), 0.0),
        "broadcast_sent": totals[DeliveryState.SENT],
        "broadcast_blocked": totals[DeliveryState.BLOCKED],
        "broadcast_failed": totals[DeliveryState.FAILED],
    }


def store_counts(store: Any) -> dict[str, float]:
    counts = {"db_round_trips": float(store.round_trips)}
    conflicts = getattr(store, "conflicts_retried", None)
    if isinstance(conflicts, int):
        counts["version_conflict_retries"] = float(conflicts)
    return counts


METRICS = Metrics()
