"""Integrations: bots and their API tokens, incoming hooks, outgoing webhooks and their delivery
worker (PROTOCOL.md section 12). They listen to the other capabilities (commit handlers on the unit
of work, hub sinks) and act through the services; nothing below imports them."""
