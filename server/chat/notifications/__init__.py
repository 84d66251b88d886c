"""Notifications (PROTOCOL.md section 15): preferences, Web Push and email digests."""
