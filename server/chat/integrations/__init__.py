"""Integrations: bots and their API tokens, incoming hooks, outgoing webhooks and their delivery
worker, and what becomes of a removed hook's bot (PROTOCOL.md section 12). They listen to the
other capabilities (a send hook on the conversations' port, commit handlers on the unit of work, a
hub sink) and act through the services; nothing below imports them."""
