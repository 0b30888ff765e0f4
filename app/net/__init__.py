"""The one outbound HTTP policy: TLS, pacing and retries, for Spotify and every provider."""
