"""Track sources: plan fetches, read them (Spotify or an Exportify file), save, aggregate."""
