"""Backends (PROTOCOL.md section 17): the server keys an application's backend holds."""
