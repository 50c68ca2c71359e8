"""`hedgectl bootstrap`: one hedged cycle across two venues - plan, open both legs, hold, close, account.

- `plan`: prices, the common quantity and every pre-entry check, before any order (HedgePlan/PlanRefused).
- `cycle`: run_hedge_cycle - open both legs at once, hold, close both at once, verify flat (flatten).
- `leg_fills`: one sent market order until it is known filled or final, then its fills (LegOutcome).
- `accounting`: HedgeResult (with its exit code) and the PnL from every fill of every order sent.
- `maker_first`: `--entry maker-first` - a post-only order rests on one venue, each fill hedged at once by the
  loop's hedger, the rest taken after the timeout; `volatility_check`: the pre-entry realised-volatility check.
"""
