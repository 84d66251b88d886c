"""Link previews (PROTOCOL.md section 13): a capability that listens to message events."""
