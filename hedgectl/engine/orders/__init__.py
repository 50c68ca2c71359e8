"""Orders as the engine handles them: sent once, journaled, tracked to a final state, reconciled after a crash.

- `dispatch`: the Dispatcher, the only writer of order transitions to the journal (intent before the
  request leaves, then ack, cancel, fills, unknown -> reconciled); never a blind resend.
- `tracking`: OrderStreams, one background pump per (venue, symbol) over the venues' supervised private
  streams (hedgectl.venues.streams), and OrderWatch, a wait for one order's change.
- `feeds`: the FillFeed protocol the maker/taker loop reads ("this order changed") and PollingFeed, its
  REST fallback for venues without a stream; `stream_feed`: StreamFeed, the same fed by OrderStreams.
- `reconcile`: crash recovery of intents journaled but never acknowledged, by client order id.
"""
