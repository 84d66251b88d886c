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
    commands     the one-shot subcommands (send, listen, topics, ...)
    render       formatting of wire objects as lines
    stdin        stdin lines without blocking the event loop
    output       the only place that writes to stdout / stderr
"""
