"""Prometheus metrics, one registry per app (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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

    def refused(self, reason: str, address: str | None) -> None:
        """Count (and log, once per address and class a minute) a refusal: ``server.refusals``."""
        self.refusals.refused(reason, address)

    def slow_consumer(self, address: str | None) -> None:
        """A client cut as a slow consumer: its own counter (older) and its refusal class."""
        self.slow_consumers.inc()
        self.refusals.refused(SLOW_CONSUMER, address)

    def render(self) -> bytes:
        return generate_latest(self.registry)
