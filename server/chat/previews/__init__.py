"""Link previews (PROTOCOL.md section 13): a capability that listens to messages (a new one's
links queued by a send hook, an edit's by a commit handler), a worker per node that fetches them,
and what users do with previews."""
