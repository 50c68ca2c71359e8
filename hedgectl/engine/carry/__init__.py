"""`hedgectl carry`: hold a hedged pair across funding settlements, watched, re-hedged, resumable.

config.py   CarryConfig (the exit rules) and duration parsing
view.py     one reading of the pair (positions as the venues report them, marks, funding) and its figures
exits.py    which rule, if any, says to close now (pure)
run.py      open (bootstrap's planner, dispatch and rollback), watch, re-hedge, close through flatten
breaker.py  the circuit breaker persisted in the journal
notify.py   alerts POSTed in the background (webhooks, Telegram)
"""
