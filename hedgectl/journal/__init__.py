"""The SQLite journal: every run, every order intent (written before it is sent), acks, fills, events.

`repository.Journal` is one connection plus a part per table group: `runs.py` (runs, events), `orders.py`
(intents and their outcomes), `ledger.py` (fills, funding), `breaker.py` (circuit-breaker trips); `rows.py` the
rows they return; `migrations.py` the numbered schema migrations.
"""

from hedgectl.journal.repository import Journal, OrderRow, RunRow, journal_exposure

__all__ = ["Journal", "OrderRow", "RunRow", "journal_exposure"]
