"""The one outbound HTTP policy, for Spotify and every provider: `tls` (one TLS context),
`pacing` (a pace per service for the whole process), `policy` (what is retried, within which
budgets, and how failures are named) and `client` (`ServiceClient`, the one request loop)."""
