"""People's data: the directory search over the accounts' words (no table of its own)."""
