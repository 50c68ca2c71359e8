"""`hedgectl carry`: hold a hedged pair across funding settlements, watched, re-hedged, resumable.

config.py   CarryConfig (the exit rules) and duration parsing
view.py     one reading of the pair (positions as the venues report them, marks, funding) and its figures
exits.py    which rule, if any, says to close now (pure)
run.py      the carry from start to end: open (or take over), watch, close, whatever happens in between
context.py  what the parts share: the result, the reporter protocol, one context, the carry's events
opening.py  open as bootstrap does (bootstrap's planner, dispatch and rollback), or resume/adopt an open pair
watch.py    the watch loop: exit rules judged, a delta re-hedged, the breaker tripped
reading.py  one reading of the pair (positions, quotes, funding journaled) and its marks journaled
closing.py  close through flatten (or keep), then PnL from the journal and the daily-loss check
legs.py     each leg's trades as the journal knows them (the carry's fills, outside trades, adopted entries)
breaker.py  the circuit breaker persisted in the journal (its trips written by the Dispatcher or the CLI)
notify.py   alerts POSTed in the background (webhooks, Telegram)
"""
