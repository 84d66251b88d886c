"""The echo channel: a line in, the upstream's line out, and the transcript (PROTOCOL.md section 5)."""
