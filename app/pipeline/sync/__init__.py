"""Sync: plan the writes that make a playlist match its rule set, apply them, back up, restore."""
