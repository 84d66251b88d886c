"""Operators' duties: accounts, topics and nodes administered (the command line and the Admin UI),
and housekeeping of old rows."""
