"""The SQLite journal: every run, every order intent (written before it is sent), acks, fills, events."""

from hedgectl.journal.repository import Journal, OrderRow, RunRow, journal_exposure

__all__ = ["Journal", "OrderRow", "RunRow", "journal_exposure"]
