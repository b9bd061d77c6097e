"""HTTP surface: FastAPI app, /api/ask, chat page, health and metrics."""
