"""The hub's data: the relay table for servers without Redis."""
