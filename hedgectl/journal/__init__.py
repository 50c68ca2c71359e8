"""The SQLite journal: every run, every order intent (written before it is sent), acks, fills, events."""

from hedgectl.journal.repository import Journal, OrderRow, RunRow

__all__ = ["Journal", "OrderRow", "RunRow"]
