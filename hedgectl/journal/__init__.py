"""The SQLite journal: every run, every order intent (written before it is sent), acks, fills, events.

`repository.Journal` is one connection plus a part per table group: `runs.py` (runs, events), `orders.py`
(intents and their outcomes), `ledger.py` (fills, funding), `breaker.py` (circuit-breaker trips); `rows.py` the
rows they return; `migrations.py` the numbered schema migrations. `figures.py` reads a run's rows into its figures
(volume, fees, funding, slippage, net PnL, cost per 10k): the one computation `history` and `report` share.
"""

from hedgectl.journal.repository import Journal, OrderRow, RunRow, journal_exposure

__all__ = ["Journal", "OrderRow", "RunRow", "journal_exposure"]
