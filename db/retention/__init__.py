"""Retention's data: the sweep of messages past their topic's retention (no table of its own)."""
