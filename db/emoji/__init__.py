"""Custom emoji (PROTOCOL.md section 13): their table, records and repository."""
