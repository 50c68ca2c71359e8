"""Orders as the engine handles them: sent once, journaled, tracked to a final state, reconciled after a crash.

- `dispatch`: the Dispatcher, the only writer of order transitions to the journal (intent before the
  request leaves, then ack, cancel, fills, unknown -> reconciled); never a blind resend.
- `tracker`: the OrderTracker, one per run, the only follower of sent orders (bootstrap, maker-first, the
  maker/taker loop, flatten, carry): the venues' stream pushes raced against the one REST polling loop;
  `updates()` (each progress of a resting order), `final()` (the one "wait until final"), `pushed_fills()`,
  `on_any()` (carry's wake-up); one dedupe rule (`brings_progress`).
- `pumps`: the tracker's stream side: one background pump per (venue, symbol) over the venues' supervised
  private streams (hedgectl.venues.streams), and OrderWatch, one order's pushed events.
- `reconcile`: crash recovery of intents journaled but never acknowledged, by client order id.
"""
