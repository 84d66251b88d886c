"""The audit log (PROTOCOL.md section 16): who did what, written with the action, listed for operators."""
