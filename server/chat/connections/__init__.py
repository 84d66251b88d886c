"""Connections: what a realtime connection does in the domain, whatever its transport: open and
close a session (which counts its user online with ``presence``), deliver the backlog and move
cursors, recover, typing and read marks, and refill what the hub missed (PROTOCOL.md sections 2
and 4)."""
