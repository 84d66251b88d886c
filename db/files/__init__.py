"""The files' data: uploads."""
