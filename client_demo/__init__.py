"""Parley client demo: a terminal chat client built on ``socketio.AsyncClient``.

It speaks only the public protocol (``PROTOCOL.md``): REST for login,
registration and token refresh, Socket.IO for everything else. Run ``python -m client_demo --help``.

Modules, one job each::

    cli          argparse entry point, exit codes
    credentials  token from --token / PARLEY_TOKEN, or login (then register)
    api          the REST calls (httpx)
    connection   Socket.IO session: auth, ack envelopes, dedupe, delivered acks
    refresh      a new token before the socket's expires (auth:expiring -> auth:refresh)
    delivery     the dedupe set and the cumulative delivered-ack tracker
    models       wire shapes (TypedDicts) and their checks
    interactive  the REPL
    conversations  the REPL's commands of PROTOCOL.md section 8 (replies, reactions, pins)
    moderation_repl  the REPL's commands of section 10 (moderation, blocking, reports)
    commands     the one-shot subcommands (send, listen, topics, ...)
    moderation_oneshot  the one-shot subcommands of section 10
    moderation   section 10's requests and their confirmations, shared by both
    live         what the REPL shows as it happens
    mentions     mentions of the user highlighted in a body
    render       formatting of wire objects as lines
    stdin        stdin lines without blocking the event loop
    output       the only place that writes to stdout / stderr
"""
