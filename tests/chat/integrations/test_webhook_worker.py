"""The delivery worker's rules that need no server: backoff, which answers are retried, the
signature, the answer's text, and which new messages make outbox rows (PROTOCOL.md section 12)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from db.records import WebhookRecord
from server.chat.integrations.webhook_worker import answer_text, signature
from server.chat.integrations.webhooks import message_rows
from server.chat.kernel.outbound import MAX_DELAY, Response, retry_delay, retryable
from server.chat.kernel.schemas import MessageOut
from server.config import Settings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_the_production_first_retry_comes_within_ten_seconds():
    base = Settings.model_fields["webhook_retry_base"].default
    assert retry_delay(1, base, rng=lambda: 0.0) >= 1.0
    assert retry_delay(1, base, rng=lambda: 0.999999) <= 10.0


def test_later_retries_grow_exponentially_to_at_most_ten_minutes_apart():
    base = Settings.model_fields["webhook_retry_base"].default
    middle = [retry_delay(n, base, rng=lambda: 0.5) for n in range(2, 12)]
    assert middle == sorted(middle) and middle[0] < middle[1] < middle[2]
    assert all(retry_delay(n, base, rng=lambda: 0.999999) <= MAX_DELAY for n in range(1, 40))
    assert retry_delay(30, base, rng=lambda: 0.5) == MAX_DELAY


def test_retries_cover_at_least_an_hour_before_giving_up_is_possible():
    """Giving up is decided by age (``webhook_give_up``, an hour by default), not by a count."""
    assert Settings.model_fields["webhook_give_up"].default >= 3600


def test_timeouts_5xx_408_and_429_are_retried_other_answers_are_final():
    assert all(retryable(code) for code in (500, 502, 503, 504, 408, 429))
    assert not any(retryable(code) for code in (400, 401, 403, 404, 410, 301, 302, 307))


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body():
    body = b'{"id":"x","event":"message"}'
    expected = hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert signature("key", body) == f"sha256={expected}"


def test_only_a_json_object_with_a_non_empty_string_text_is_an_answer():
    assert answer_text(Response(200, b'{"text": "hi"}')) == "hi"
    for body in (b"", b"hi", b'{"text": ""}', b'{"text": "  "}', b'{"text": 5}', b'["text"]', b"{}"):
        assert answer_text(Response(200, body)) is None


def _hook(events: tuple[str, ...], bot_id: int | None = None) -> WebhookRecord:
    return WebhookRecord("h" * 32, 1, "http://example.com/", events, "s", bot_id, 1, NOW)


def _message(mentions: list[str]) -> MessageOut:
    return MessageOut(
        id=7,
        topic="general",
        kind="public",
        seq=3,
        sender="alice",
        body="hi",
        created_at="2026-11-23T12:00:00Z",
        edited_at=None,
        client_id=None,
        mentions=mentions,
    )


def test_a_message_makes_a_row_per_wanted_event_each_with_its_own_delivery_id():
    rows = message_rows([_hook(("message", "mention"))], _message(["bob"]), 5, True, NOW)
    assert [row.event for row in rows] == ["message", "mention"]
    assert rows[0].id != rows[1].id and all(row.trigger_message_id == 7 for row in rows)
    assert all(f'"id":"{row.id}"' in row.body for row in rows)
    assert message_rows([_hook(("mention",))], _message([]), 5, False, NOW) == []


def test_the_webhooks_own_bot_never_triggers_it_but_triggers_the_others():
    own, other = _hook(("message",), bot_id=5), _hook(("message",), bot_id=6)
    assert message_rows([own], _message([]), 5, False, NOW) == []
    assert len(message_rows([own, other], _message([]), 5, False, NOW)) == 1
