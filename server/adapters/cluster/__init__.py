"""What other nodes must know, through Redis: the implementations of the chat domain's ports."""
