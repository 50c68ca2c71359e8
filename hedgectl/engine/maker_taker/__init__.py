"""`hedgectl bp-aster loop`: the maker/taker volume loop over any maker venue and taker venue.

- `config`: LoopConfig and the seed's YAML file with flags over it.
- `loop`: run_loop/preflight - cycles of two hedged legs, the funding gate, the exit step.
- `leg`: one leg - rest a post-only limit on the maker, re-quote it, hedge every fill.
- `hedger`: hedge maker fills on the taker as they happen; the position invariant.
- `funding_gate`: no leg starts within N minutes of either venue's next funding settlement.
- `stats`: running statistics in constant memory; `events`: LoopEvent and the LoopReporter that hears them;
  `context`: what every part shares (LoopContext: venues, dispatcher, order tracker, clock; retries and waits).
"""
