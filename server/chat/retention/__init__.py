"""Retention (PROTOCOL.md section 16): messages older than their topic's retention are deleted for
good by a sweep that runs on every node, one at a time on PostgreSQL."""
