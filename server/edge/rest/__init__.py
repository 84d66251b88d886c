"""REST transport: FastAPI routers over the chat service; thin by rule."""
