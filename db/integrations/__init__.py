"""The integrations' data: bots' tokens, incoming webhooks, outgoing webhooks, their outbox and
delivery log."""
