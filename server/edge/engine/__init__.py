"""The Engine.IO/Socket.IO stack and every override of a library internal: nothing else touches them."""
