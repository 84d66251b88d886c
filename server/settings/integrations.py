"""Integrations (server/chat/integrations/; PROTOCOL.md section 12): incoming and outgoing webhooks."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, model_validator

from server.settings.values import CsvList, SettingsError


class IntegrationsSettings(BaseModel):
    """An incoming hook's rate; the outgoing deliveries' guard, timing, lease and housekeeping."""

    # Incoming webhooks: posts per minute to one hook (a burst of as many).
    hook_posts_per_minute: int = Field(default=60, gt=0, description="posts a minute to one hook")
    # Outgoing webhooks: hosts the SSRF guard lets through (names or IPs), the timeout of one
    # delivery, the first retry's base delay and how long a delivery is retried.
    webhook_allow_hosts: CsvList = Field(default_factory=list)
    webhook_timeout: float = Field(default=10.0, gt=0, le=60, description="seconds a delivery may take")
    webhook_retry_base: float = Field(
        default=2.0, gt=0, le=4, description="seconds; the first retry comes 1-2.5 times this later"
    )
    webhook_give_up: float = Field(default=3600.0, ge=0, description="seconds a delivery is retried")
    # PostgreSQL: how long a node holds a delivery it took. A row taken by a node that died is
    # taken again only when this ends, so it must outlast a delivery (the timeout; checked below).
    webhook_lease: float = Field(default=60.0, gt=0, description="seconds a taken delivery is a node's")
    # Housekeeping (server/chat/operators/housekeeping.py): how long a finished delivery (ok or failed; a
    # pending one is never pruned) and an attempt of the delivery log are kept.
    webhook_outbox_retention: float = Field(
        default=7 * 86400.0, gt=0, description="seconds a finished delivery's outbox row is kept"
    )
    webhook_log_retention: float = Field(
        default=7 * 86400.0, gt=0, description="seconds an attempt stays in the delivery log"
    )

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> Self:
        """A lease that ended while its node still waited for the receiver would let another node
        post the same delivery again: the lease must exceed the delivery timeout."""
        if self.webhook_lease <= self.webhook_timeout:
            raise SettingsError(
                f"PARLEY_WEBHOOK_LEASE ({self.webhook_lease:g} s) must be longer than "
                f"PARLEY_WEBHOOK_TIMEOUT ({self.webhook_timeout:g} s)"
            )
        return self
