"""The exports' data: a user's exports of their data."""
