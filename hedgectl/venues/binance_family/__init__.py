"""The Binance family: what Binance USDⓈ-M and Aster (a Binance fork) share, written once.

`auth` HMAC signing, `client` the raw REST client (paths per venue and auth generation, on the kit's seam),
`errors` the one error-code map, `codes` the wire vocabulary and symbol filters, `parse` wire -> domain,
`stream` the listen-key user data stream, `venue` the adapter behind the Venue protocol. `venues/binance/` and
`venues/aster/` choose paths, signers, limits and the few endpoints where the two differ.
"""
