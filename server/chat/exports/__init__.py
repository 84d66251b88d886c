"""A user's export of their own data (PROTOCOL.md section 16): requests, the worker that builds
each ZIP off the event loop, and the pass that removes them after 7 days."""
