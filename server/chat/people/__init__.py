"""People (PROTOCOL.md section 14): profiles, status, availability and the directory."""
