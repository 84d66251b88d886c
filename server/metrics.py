"""Prometheus metrics, one registry per app (tests build many apps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from server.refusals import SLOW_CONSUMER, Refusals


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sockets = Gauge(
            "parley_connected_sockets", "Connected Socket.IO sockets", ["namespace"], registry=self.registry
        )
        self.events = Counter(
            "parley_socket_events_total",
            "Socket.IO events handled",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.requests = Counter(
            "parley_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "parley_socket_event_seconds", "Socket.IO event handling time", ["event"], registry=self.registry
        )

        self.slow_consumers = Counter(
            "parley_slow_consumers_closed_total",
            "Sockets closed because their outgoing queue passed its bound",
            registry=self.registry,
        )
        self.backlog_messages = Counter(
            "parley_backlog_messages_queued_total",
            "Backlog and recovery replay messages queued for Socket.IO sockets by their welcome",
            registry=self.registry,
        )
        self.undecodable_packets = Counter(
            "parley_undecodable_packets",
            "Connections closed because a packet could not be decoded",
            registry=self.registry,
        )

        refusals = Counter(
            "parley_refusals",
            "Clients refused, by reason: address_bound, user_bound, body_cap, rate_limit, slow_consumer",
            ["reason"],
            registry=self.registry,
        )
        self.refusals = Refusals(refusals.labels)

    def watch_setups(
        self, running: Callable[[], int], waiting: Callable[[], int], queued: Callable[[], int]
    ) -> None:
        """Connection set-ups (``PARLEY_CONNECT_CONCURRENCY``), read at each scrape: a storm shows
        as ``waiting`` and a rising ``queued``."""
        Gauge(
            "parley_connect_setups_running", "Connection set-ups running", registry=self.registry
        ).set_function(running)
        Gauge(
            "parley_connect_setups_waiting", "Connection set-ups waiting their turn", registry=self.registry
        ).set_function(waiting)
        self.registry.register(_Queued(queued))

    def refused(self, reason: str, address: str | None) -> None:
        """Count (and log, once per address and class a minute) a refusal: ``server.refusals``."""
        self.refusals.refused(reason, address)

    def slow_consumer(self, address: str | None) -> None:
        """A client cut as a slow consumer: its own counter (older) and its refusal class."""
        self.slow_consumers.inc()
        self.refusals.refused(SLOW_CONSUMER, address)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Queued(Collector):
    """``parley_connect_setups_queued_total``: a counter the gate keeps (as an int), read at a scrape."""

    def __init__(self, queued: Callable[[], int]) -> None:
        self.queued = queued

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "parley_connect_setups_queued", "Connection set-ups that waited for a turn", value=self.queued()
        )
