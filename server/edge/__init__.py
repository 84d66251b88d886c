"""The edge: every transport (Socket.IO, REST, the gateway dialects), the route table, the error map,
and the Engine.IO stack under them (`engine/`). See docs/LAYOUT.md."""
