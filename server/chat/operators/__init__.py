"""Operators' duties: accounts, topics and nodes administered (the command line and the Admin UI),
housekeeping of old rows, and erasure (an account deleted with what it wrote, asked by its user or
by an operator) and its worker."""
