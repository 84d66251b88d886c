"""Socket.IO transport: thin handlers over the chat service, and the hub sink."""
