"""`hedgectl scan`: funding-carry opportunities across venues.

`pairs` is the pure part (one long/short pair's funding, basis, entry/exit cost and expected result);
`reads` reads every venue concurrently, rate-limited and bounded, and ranks what it found.
"""
