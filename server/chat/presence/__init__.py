"""Presence: who is online on any node, told to those allowed to see it, with a grace period
(PROTOCOL.md section 4). Below accounts (a profile shows it) and connections (a session counts
its user online); the registry across nodes is the kernel's ``OnlineRegistry`` port."""
