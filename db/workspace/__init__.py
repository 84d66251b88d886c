"""Joining the workspace (PROTOCOL.md section 19): its settings and its invites."""
