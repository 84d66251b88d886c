"""Limits: the plain values a capability's build reads, each declared by the capability that reads
it, and the few several capabilities share (here).

A capability declares its own section, a frozen dataclass in its ``assembly.py`` (``PreviewLimits``,
``NotificationLimits``, ...), and its ``build`` takes that section: it sees only its own values.
The domain's composition root composes the sections into one ``Limits``
(``server.chat.service.Limits``), which the composition (``server.chat_factory.limits_from``) fills
from the settings: each field is the setting of the same name (``server/settings/``), where its
default, bounds and meaning are. A section therefore declares no defaults.

What sits here is shared across a floor: the outgoing requests' timing, read by the webhooks, Web
Push, the mail outbox and erasure (siblings that may not import each other).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class OutboundLimits:
    """The outgoing deliveries' timing (PROTOCOL.md section 12), shared by every worker that posts
    or sends (webhooks, pushes, mails) and by the jobs that lease rows the same way (erasure)."""

    webhook_retry_base: float  # the delivery workers' backoff
    webhook_give_up: float
    webhook_lease: float
    webhook_outbox_retention: float  # housekeeping: finished deliveries (webhook, push, mail) kept this long
