"""The operators' data: the servers' heartbeats and accounts' erasures (which reach every table)."""
