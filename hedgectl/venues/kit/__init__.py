"""The venue machinery every native adapter shares (issue 14): one seam, one map, one retry, one placement.

API (import from the modules; this package imports nothing so that `kit.wire` stays light):

- `http.HttpSeam(config, rate_per_s=, burst=, order_rate_per_s=, order_burst=, server_time_ms=)`: owns the
  keep-alive httpx client (timeouts, config headers, no redirects) and, per request, the host guard.
  `await acquire(cost, order=)` takes rate-limit tokens (before signing); `await now_ms()` / `now_us()` is the
  venue's clock (offset measured lazily through `server_time_ms`), `await measure_offset()` re-measures after
  a clock refusal; `build(method, path, query=, body=, headers=) -> httpx.Request` (nothing sent; a `str`
  query is used byte for byte); `await exchange(request, Kind.READ | Kind.WRITE, what) -> httpx.Response`
  (`httpx.send` alone; any status returned, httpx failures mapped); `await exchange_signed(request, kind,
  rebuild=, clock_refused=)` (after a clock refusal such as -1021 / 50102: re-measure, sign anew, send once
  more); `decode_json(bytes)` (floats as Decimal,
  BadResponse otherwise); `await close()`. `json_body(obj)` is the compact, key-sorted JSON body.
  The venue keeps its signer and the mapping of its error replies.
- `transport`: `Kind`, `map_transport_error(exc, venue=, kind=, what=, base_url=)`, the `OUTCOMES` table that
  names every httpx exception class (NEVER_LEFT -> Unavailable; MAY_HAVE_LEFT -> AmbiguousOrderState for a
  WRITE, Unavailable for a READ; UNUSABLE -> BadResponse), and `describe_transport` / `scrub` /
  `exception_chain` (the words for a failed connection, shared with scan's ccxt reader).
- `retry.retry_read(call, attempts=, sleep=)`: retries while the error's `action` is RETRY or BACK_OFF (the
  latter waits twice as long); everything else is raised at once. Writes never go through it.
- `placement.place(send, lookup, plan, venue=, client_order_id=, absent_from=)`: send once; on
  AmbiguousOrderState or BadResponse look the order up by client order id on `plan` (`ReconcilePlan(delays_s,
  sleep, monotonic)`, or `covering_plan(span_s)`); return it if found, Unavailable if certainly absent,
  AmbiguousOrderState naming the client id otherwise. Never resends.
- `markets.MarketRules(config, fetch, not_listed=)`: a venue's market rules, loaded once per session from the
  on-disk cache while it is younger than `market_cache_ttl_s` (`markets-<venue>-<base url>.json`), else fetched
  with the venue's own `fetch` and cached; `get(symbol)` reloads once on a miss in cached rules, then raises
  BadResponse for an unreadable row or SymbolNotListed in the venue's words; `canonical(venue_symbol)`.
- `host_guard`, `rate_limit.RateLimiter`, `time_offset.TimeOffset`: the pieces the seam is made of (the host
  guard admits a URL only under the allowed base path, whole segment by whole segment, no dot segments).
- `wire`: the one set of wire readers every parser uses (`WireReader`, `decode_json`).
"""
