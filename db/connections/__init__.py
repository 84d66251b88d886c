"""The connections' data: Socket.IO recovery sessions."""
