"""Backends (PROTOCOL.md section 17): what an application's backend does without a socket."""
