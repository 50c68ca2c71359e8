"""The exchange simulator: the referee every paper run and end-to-end test trades against. It never imports
adapter code (`hedgectl.venues`).

- `engine.py` the matching engine (admission in `rules.py`, books in `books.py`, resting orders filled from trades
  in `queue_fills.py`); `booking.py` what a fill or an order's end does to the account, tape and event bus;
  `funding.py` funding rates and settlement; `accounts.py` the per-venue accounts; `model.py` the value types.
- `market.py` the seeded price walk; `market_source/` recorded or live markets (`records.py` the values they carry).
- `dialects/` each venue's wire (DIALECTS.md); `control.py` the `/_sim/` control API; `server.py`, `embedded.py`,
  `remote.py` how it runs and how a command reaches it.
"""
