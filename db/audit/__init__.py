"""The audit log's data."""
