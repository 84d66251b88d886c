"""What other nodes must know: the chat domain's hub, presence registry and budgets through
Redis, the database relay that is the hub without Redis, and what both need (the events' codec,
per-topic ``seq`` order)."""
