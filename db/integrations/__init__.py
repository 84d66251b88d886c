"""The integrations' data: bots' tokens, incoming webhooks, outgoing webhooks and their outbox."""
